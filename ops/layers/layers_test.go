package layers_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/ops/layers"
	"github.com/dbvault/dbvault/stacks/kit"
)

// The registry is in deploy order, and each entry is the project that
// `pulumi up` in stacks/<layer>/ manages, so both paths manage one stack.
func TestLayersInDeployOrderMatchTheirProjects(t *testing.T) {
	want := []string{kit.NetworkProject, kit.KMSProject, kit.DatabaseProject, kit.SecretsProject}
	if len(layers.All) != len(want) {
		t.Fatalf("%d layers registered", len(layers.All))
	}
	for i, l := range layers.All {
		if l.Project != want[i] || l.Project != "vault-"+l.Name || l.Run == nil {
			t.Errorf("layer %d: %s (%s), want project %s", i, l.Name, l.Project, want[i])
		}
		b, err := os.ReadFile(filepath.Join("..", "..", "stacks", l.Name, "Pulumi.yaml"))
		if err != nil {
			t.Fatalf("layer %s: %v", l.Name, err)
		}
		fields := map[string]string{}
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, " ") {
				fields[k] = strings.TrimSpace(v)
			}
		}
		if fields["name"] != l.Project || fields["runtime"] != "go" || fields["main"] != "cmd/" {
			t.Errorf("stacks/%s/Pulumi.yaml: name %q runtime %q main %q, want %s, go, cmd/", l.Name, fields["name"], fields["runtime"], fields["main"], l.Project)
		}
		if got, ok := layers.ByName(l.Name); !ok || got.Project != l.Project {
			t.Errorf("ByName(%q) = %v, %v", l.Name, got.Project, ok)
		}
	}
	if _, ok := layers.ByName("nope"); ok {
		t.Error("ByName found a layer that does not exist")
	}
}
