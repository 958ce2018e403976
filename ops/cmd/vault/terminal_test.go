package main

import (
	"os"
	"strings"
	"testing"
)

// /dev/null is a character device but no terminal: destroyAll </dev/null
// must not prompt on it (it would read EOF as a refusal at best).
func TestDevNullAndPipesAreNoTerminal(t *testing.T) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if isTerminal(null) {
		t.Error("/dev/null taken for a terminal")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if isTerminal(r) || isTerminal(strings.NewReader("")) {
		t.Error("a pipe or a reader taken for a terminal")
	}
}
