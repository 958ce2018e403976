package cmdenv

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestInt(t *testing.T) {
	if n, err := Int(env(nil), "X_ROTATIONS", 3, 1); n != 3 || err != nil {
		t.Errorf("unset: %d %v, want the default", n, err)
	}
	if n, err := Int(env(map[string]string{"X_ROTATIONS": "7"}), "X_ROTATIONS", 3, 1); n != 7 || err != nil {
		t.Errorf("7: %d %v", n, err)
	}
	for _, bad := range []string{"0", "-1", "three", "2.5"} {
		_, err := Int(env(map[string]string{"X_ROTATIONS": bad}), "X_ROTATIONS", 3, 1)
		if err == nil || !strings.Contains(err.Error(), `X_ROTATIONS="`+bad+`": expected a whole number of at least 1`) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestDuration(t *testing.T) {
	if d, err := Duration(env(nil), "X_INTERVAL", time.Second); d != time.Second || err != nil {
		t.Errorf("unset: %v %v", d, err)
	}
	if d, err := Duration(env(map[string]string{"X_INTERVAL": "400ms"}), "X_INTERVAL", time.Second); d != 400*time.Millisecond || err != nil {
		t.Errorf("400ms: %v %v", d, err)
	}
	for _, bad := range []string{"0s", "-1s", "soon"} {
		if _, err := Duration(env(map[string]string{"X_INTERVAL": bad}), "X_INTERVAL", time.Second); err == nil || !strings.Contains(err.Error(), "X_INTERVAL") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
