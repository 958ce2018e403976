package main

import (
	"bytes"
	"sync"
	"testing"
)

// Lines written in pieces by two environments come out whole, each after
// its environment's name.
func TestPrefixWriterKeepsLinesWhole(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	a := &prefixWriter{mu: &mu, w: &out, prefix: "[a] "}
	b := &prefixWriter{mu: &mu, w: &out, prefix: "[b] "}
	for _, step := range []struct {
		w *prefixWriter
		s string
	}{{a, "deploy"}, {b, "destroy\nsecond"}, {a, "ing\n\n"}, {b, " line\n"}} {
		if n, err := step.w.Write([]byte(step.s)); err != nil || n != len(step.s) {
			t.Fatalf("Write(%q) = %d, %v", step.s, n, err)
		}
	}
	want := "[b] destroy\n[a] deploying\n[a] \n[b] second line\n"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
}
