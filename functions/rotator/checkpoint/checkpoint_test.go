package checkpoint

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]struct {
		name string
		n    int
	}{
		"setSecret:after-alter":   {"setSecret:after-alter", 1},
		"setSecret:after-alter:3": {"setSecret:after-alter", 3},
		"setSecret:after-alter:0": {"setSecret:after-alter:0", 1},
		"":                        {"", 1},
	} {
		if name, n := Parse(in); name != want.name || n != want.n {
			t.Errorf("Parse(%q) = %q, %d", in, name, n)
		}
	}
}

func TestNamesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range Names {
		if seen[n] {
			t.Errorf("%s twice", n)
		}
		seen[n] = true
	}
}

func TestReachCallsTheContextsFunc(t *testing.T) {
	stop := errors.New("stop")
	var got []string
	ctx := With(context.Background(), func(name string) error {
		got = append(got, name)
		if name == SetAfterAlter {
			return stop
		}
		return nil
	})
	if err := Reach(ctx, SetAfterLogin); err != nil {
		t.Fatal(err)
	}
	err := Reach(ctx, SetAfterAlter)
	if !errors.Is(err, stop) || !strings.Contains(err.Error(), "stopped at checkpoint "+SetAfterAlter) {
		t.Fatalf("Reach = %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("the Func saw %v", got)
	}
	if err := Reach(With(context.Background(), nil), SetAfterAlter); err != nil {
		t.Fatalf("a nil Func stopped the step: %v", err)
	}
	if err := Reach(context.Background(), SetAfterAlter); err != nil {
		t.Fatalf("no Func (and no failpoints build) stopped the step: %v", err)
	}
}
