package configdecl

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/dbvault/dbvault/ops/deploy"
	"github.com/dbvault/dbvault/ops/layers"
	"github.com/dbvault/dbvault/stacks/kit"
)

// pulumiRoot finds a Pulumi CLI: the one on PATH, else the pinned build
// `go run mage.go pulumiCLI` caches.
func pulumiRoot(t *testing.T) string {
	if p, err := exec.LookPath("pulumi"); err == nil {
		return filepath.Dir(filepath.Dir(p))
	}
	if cache, err := os.UserCacheDir(); err == nil {
		root := filepath.Join(cache, "dbvault", "pulumi-v3.274.1")
		if _, err := os.Stat(filepath.Join(root, "bin", "pulumi")); err == nil {
			return root
		}
	}
	t.Skip("no Pulumi CLI (go run mage.go pulumiCLI builds one)")
	return ""
}

// The real CLI accepts each layer's Pulumi.yaml and hands a program that
// sets only environmentSuffix exactly the declared defaults, in the form
// TestDeclaredDefaultsAreTheLayersOwn gives them (cliValue); and the
// runner does not count them as the stack's own config.
func TestTheCLIAppliesTheDeclaredDefaults(t *testing.T) {
	root := pulumiRoot(t)
	ctx := context.Background()
	for _, l := range layers.All {
		t.Run(l.Name, func(t *testing.T) {
			decl := declared(project(t, l.Name))
			stacks := t.TempDir()
			dir := filepath.Join(stacks, l.Name)
			if err := os.MkdirAll(filepath.Join(dir, "cmd"), 0o750); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(repoRoot(t), "stacks", l.Name, "Pulumi.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), b, 0o600); err != nil {
				t.Fatal(err)
			}
			echo := kit.Layer{Name: l.Name, Project: l.Project, Run: func(ctx *pulumi.Context) (pulumi.Map, error) {
				cfg := config.New(ctx, "")
				got := map[string]string{}
				for k := range decl {
					name := k[strings.Index(k, ":")+1:]
					if v, ok := ctx.GetConfig(k); ok {
						got[name] = v
					} else {
						got[name] = "<unset:" + cfg.Get(name) + ">"
					}
				}
				js, err := json.Marshal(got)
				return pulumi.Map{"config": pulumi.String(string(js))}, err
			}}
			var progress bytes.Buffer
			a := &deploy.Auto{
				StacksDir:  stacks,
				BackendURL: "file://" + filepath.Join(t.TempDir(), "state"),
				EnvVars:    map[string]string{"PULUMI_CONFIG_PASSPHRASE": "test"},
				PulumiRoot: root,
				PulumiHome: t.TempDir(),
				Progress:   &progress,
			}
			stack := deploy.Environment{Name: "decl", Org: deploy.DefaultOrg}.FullyQualified(l.Project)
			res, err := a.Up(ctx, echo, stack, deploy.Config{l.Project + ":environmentSuffix": {Value: "decl"}})
			if err != nil {
				t.Fatalf("up: %v\n%s", err, progress.String())
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(res.Outputs["config"].Value.(string)), &got); err != nil {
				t.Fatal(err)
			}
			for k, d := range decl {
				name := k[strings.Index(k, ":")+1:]
				want := "decl"
				if d.Default != nil {
					want = cliValue(t, d.Default)
				}
				var gotJSON, wantJSON any
				if json.Unmarshal([]byte(got[name]), &gotJSON) == nil && json.Unmarshal([]byte(want), &wantJSON) == nil {
					g, _ := json.Marshal(gotJSON)
					w, _ := json.Marshal(wantJSON)
					if string(g) == string(w) {
						continue
					}
				}
				if got[name] != want {
					t.Errorf("%s: the program got %q, want %q", k, got[name], want)
				}
			}
			own, _, err := a.Config(ctx, echo, stack)
			if err != nil {
				t.Fatal(err)
			}
			for k := range own {
				if k != l.Project+":environmentSuffix" {
					t.Errorf("the runner counts %s as the stack's own", k)
				}
			}
			if _, err := a.Destroy(ctx, echo, stack); err != nil {
				t.Fatal(err)
			}
		})
	}
}
