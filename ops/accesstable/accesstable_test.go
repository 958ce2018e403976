package accesstable

import (
	"flag"
	"slices"
	"testing"

	"github.com/dbvault/dbvault/ops/internal/repotest"
	"github.com/dbvault/dbvault/ops/layers"
	"github.com/dbvault/dbvault/ops/synth"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/mock"
)

var update = flag.Bool("update", false, "rewrite the access table in docs/credential-model.md")

// Two application users, each with a reader role of its own.
var twoUsers = `[` +
	`{"name":"orders","privileges":["SELECT","INSERT","UPDATE","DELETE"],"readers":["arn:aws:iam::123456789012:role/orders-service"]},` +
	`{"name":"billing","privileges":["SELECT"],"readers":["arn:aws:iam::123456789012:role/billing-service"]}]`

// configuration is one environment the contract must hold in.
type configuration struct {
	name   string
	config map[string]string
	// readers: its application users have reader roles.
	readers bool
}

func configurations(t *testing.T) []configuration {
	zipPath := mock.RotatorZip(t)
	base := func() map[string]string {
		return map[string]string{kit.SecretsProject + ":rotatorZip": zipPath}
	}
	production := base()
	for _, l := range layers.All {
		production[l.Project+":environmentClass"] = kit.Production
	}
	two := base()
	two[kit.SecretsProject+":appUsers"] = twoUsers
	return []configuration{
		{name: "ephemeral", config: base()},
		{name: "production", config: production},
		{name: "two users with readers", config: two, readers: true},
	}
}

func vaultOf(t *testing.T, config map[string]string) Vault {
	t.Helper()
	docs, err := synth.Run(synth.Options{Env: "dev", Region: "us-east-1", Root: repotest.Root(t), Layers: layers.All, Config: config})
	if err != nil {
		t.Fatal(err)
	}
	v, err := fromSynth(docs)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Every cell of every configuration is what the contract says
// (Expected); a failing cell names the principal, the action,
// the secret, what was expected, what the policies give and the statement
// that decided.
func TestContract(t *testing.T) {
	for _, cfg := range configurations(t) {
		t.Run(cfg.name, func(t *testing.T) {
			v := vaultOf(t, cfg.config)
			for _, k := range v.TestedKeys() {
				if !slices.Contains(suppliedKeys, k) {
					t.Errorf("a policy tests condition key %s, which the request model does not supply (it would be judged absent): add it to requestContext and suppliedKeys", k)
				}
			}
			cells, err := v.Cells()
			if err != nil {
				t.Fatal(err)
			}
			kinds := map[string]bool{}
			failed := 0
			for _, c := range cells {
				kinds[c.Row.Kind] = true
				want := Expected(c.Row.Kind, c.Action, c.Secret.User == "")
				if want == MustDeny && !c.Allowed && c.Decision.By == "" && (c.Row.Kind == Reader || c.Row.Kind == OtherReader) {
					// A reader's role is the team's, and may hold
					// secretsmanager:* tomorrow: a deny that holds only
					// because the row carries no IAM policy is no deny.
					failed++
					t.Errorf("%s (%s) %s on %s: denied only implicitly (%s); the vault's policies must deny it explicitly", c.Row.Label, principalName(c), c.Action.Name, c.Secret.Arn, c.Decision)
					continue
				}
				if want == Open || (want == MustAllow) == c.Allowed {
					continue
				}
				failed++
				t.Errorf("%s (%s) %s on %s: want %s, got %s", c.Row.Label, principalName(c), c.Action.Name, c.Secret.Arn, want, c.Decision)
			}
			want := []string{Administrator, Rotator, RDSService, RDSRole, Insider, Outsider}
			if cfg.readers {
				want = append(want, Reader, OtherReader)
			}
			for _, k := range want {
				if !kinds[k] {
					t.Errorf("no %s row was evaluated", k)
				}
			}
			t.Logf("%d cells, %d against the contract", len(cells), failed)
		})
	}
}

func principalName(c Cell) string {
	if c.Row.Principal.Service != "" {
		return c.Row.Principal.Service
	}
	return c.Row.Principal.ARN
}

// docs/credential-model.md shows the table the policies give for two users
// with readers; -update rewrites it.
func TestDocumentedTable(t *testing.T) {
	two := configurations(t)[2]
	if !two.readers {
		t.Fatal("the documented table is the configuration with readers")
	}
	v := vaultOf(t, two.config)
	cells, err := v.Cells()
	if err != nil {
		t.Fatal(err)
	}
	want, err := render(cells)
	if err != nil {
		t.Fatal(err)
	}
	repotest.DocBlock(t, "docs/credential-model.md", tableBegin, tableEnd, want, *update,
		"the access table in docs/credential-model.md is not what the policies give; run `go test ./ops/accesstable -run TestDocumentedTable -update`.")
}
