package configdecl

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/dbvault/dbvault/ops/deploy"
	"github.com/dbvault/dbvault/ops/internal/repotest"
	"github.com/dbvault/dbvault/ops/layers"
	"github.com/dbvault/dbvault/stacks/kit"
)

// The real CLI accepts each layer's Pulumi.yaml and hands a program that
// sets only environmentSuffix exactly the declared defaults, in the form
// TestDeclaredDefaultsAreTheLayersOwn gives them (cliValue); and the
// runner does not count them as the stack's own config.
func TestTheCLIAppliesTheDeclaredDefaults(t *testing.T) {
	root := repotest.PulumiCLI(t)
	ctx := context.Background()
	for _, l := range layers.All {
		t.Run(l.Name, func(t *testing.T) {
			decl := declared(project(t, l.Name))
			stacks := t.TempDir()
			dir := filepath.Join(stacks, l.Name)
			if err := os.MkdirAll(filepath.Join(dir, "cmd"), 0o750); err != nil {
				t.Fatal(err)
			}
			repotest.Project(t, l.Name, dir)
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
