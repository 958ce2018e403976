package cmdenv

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) *Env { return &Env{Getenv: func(k string) string { return m[k] }} }

func TestInt(t *testing.T) {
	if e := env(nil); e.Int("X_ROTATIONS", 3, 1) != 3 || e.Err != nil {
		t.Errorf("unset: %v, want the default", e.Err)
	}
	if e := env(map[string]string{"X_ROTATIONS": "7"}); e.Int("X_ROTATIONS", 3, 1) != 7 || e.Err != nil {
		t.Errorf("7: %v", e.Err)
	}
	for _, bad := range []string{"0", "-1", "three", "2.5"} {
		e := env(map[string]string{"X_ROTATIONS": bad})
		e.Int("X_ROTATIONS", 3, 1)
		if e.Err == nil || !strings.Contains(e.Err.Error(), `X_ROTATIONS="`+bad+`": expected a whole number of at least 1`) {
			t.Errorf("%q: %v", bad, e.Err)
		}
	}
}

func TestDuration(t *testing.T) {
	if e := env(nil); e.Duration("X_INTERVAL", time.Second) != time.Second || e.Err != nil {
		t.Errorf("unset: %v", e.Err)
	}
	if e := env(map[string]string{"X_INTERVAL": "400ms"}); e.Duration("X_INTERVAL", time.Second) != 400*time.Millisecond || e.Err != nil {
		t.Errorf("400ms: %v", e.Err)
	}
	for _, bad := range []string{"0s", "-1s", "soon"} {
		e := env(map[string]string{"X_INTERVAL": bad})
		e.Duration("X_INTERVAL", time.Second)
		if e.Err == nil || !strings.Contains(e.Err.Error(), "X_INTERVAL") {
			t.Errorf("%q: %v", bad, e.Err)
		}
	}
}

// The first bad value is the error, whatever is read after it.
func TestFirstErrorKept(t *testing.T) {
	e := env(map[string]string{"A": "x", "B": "soon"})
	e.Int("A", 1, 0)
	e.Duration("B", time.Second)
	if e.Err == nil || !strings.Contains(e.Err.Error(), "A=") {
		t.Errorf("%v, want the error about A", e.Err)
	}
}
