package targets

import (
	"errors"
	"slices"
	"testing"
)

// configure and the docs tables run the config command; configure and the
// gate over the stack files refuse a missing ENV before building anything.
func TestConfigTargets(t *testing.T) {
	calls := recordRuns(t)
	t.Setenv("ENV", "")
	if err := Configure(); !errors.Is(err, errMissingEnv) {
		t.Fatalf("configure without ENV: %v", err)
	}
	if err := auditStackFiles(); !errors.Is(err, errMissingEnv) {
		t.Fatalf("auditStackFiles without ENV: %v", err)
	}
	if len(*calls) != 0 {
		t.Fatalf("ran %q without ENV", *calls)
	}
	t.Setenv("ENV", "qa")
	t.Setenv("AUDIT_INPUT", "")
	if err := Configure(); err != nil {
		t.Fatal(err)
	}
	if err := (Dev{}).DocsTables(); err != nil {
		t.Fatal(err)
	}
	if err := auditStackFiles(); err != nil {
		t.Fatal(err)
	}
	want := []string{"./ops/cmd/config configure", "./ops/cmd/config docs", "rotator", "./ops/cmd/synth", "./ops/cmd/audit -input build/synth -policy policy"}
	if !slices.Equal(*calls, want) {
		t.Fatalf("ran %q, want %q", *calls, want)
	}
}
