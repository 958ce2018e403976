package audit

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = "../.."

// TestProjectSynthPasses synthesizes the project's four layers with its own
// synth command (`go run ./ops/cmd/synth -out <temp>`) and requires the policy
// pack to find no high-severity violation in them: the project passes its own
// audit. The medium findings are logged for the reader.
func TestProjectSynthPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("synthesizes every layer (about a minute cold); not in -short")
	}
	out := t.TempDir()
	cmd := exec.Command("go", "run", "./ops/cmd/synth", "-out", out, "-env", "dev")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "ENV=", "AWS_REGION=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("synth failed (it needs the rotator zip: go run mage.go rotator): %v\n%s", err, b)
	}
	files, err := filepath.Glob(filepath.Join(out, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var layers []string
	for _, f := range files {
		layers = append(layers, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	if strings.Join(layers, ",") != "database,kms,network,secrets" {
		t.Fatalf("synth wrote %v, want the four layers", layers)
	}
	// The rules must have something to check: a pass over a graph without
	// these resources would prove nothing.
	docs, err := ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, d := range docs {
		for _, r := range d.Data["resources"].([]any) {
			seen[r.(map[string]any)["type"].(string)] = true
		}
	}
	for _, typ := range []string{tVPC, tSubnet, tEndpoint, tIngress, tKey, tCluster, tInstance, tParams, tLogGroup, tSecret, tRotation, tRole, tRolePol, tFunction, tPerm, tTopic, tTrail} {
		if !seen[typ] {
			t.Errorf("synth output has no %s for the rules to check", typ)
		}
	}
	fs, err := loadPack(t).EvaluateDir(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Severity == High {
			t.Errorf("the project fails its own audit: %s %s/%s: %s", f.Rule, f.Layer, f.Resource, f.Message)
		} else {
			t.Logf("advisory: %s %s/%s: %s", f.Rule, f.Layer, f.Resource, f.Message)
		}
	}
}
