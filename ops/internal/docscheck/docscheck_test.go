package docscheck

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/ops/audit"
	"github.com/dbvault/dbvault/ops/internal/configdecl"
	"github.com/dbvault/dbvault/ops/internal/repotest"
	"github.com/dbvault/dbvault/ops/layers"
)

var update = flag.Bool("update", false, "rewrite docs/policy.md's rules table from the catalog")

func checker(t *testing.T) *Checker {
	t.Helper()
	c, err := NewChecker(repotest.Root(t))
	if err != nil {
		t.Fatal(err)
	}
	// README's deploy section shows mage's answer to a misspelt target.
	c.Misspelt["deploAll"] = true
	return c
}

// TestDocs: every mage target, `go run` package and flag, `go test`
// package and relative link shown in README.md, docs/*.md and
// stacks/*/README.md exists.
func TestDocs(t *testing.T) {
	c := checker(t)
	docs, err := Docs(c.Root)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) < 5 {
		t.Fatalf("found only %v", docs)
	}
	for _, d := range docs {
		problems, err := c.Check(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Error(p)
		}
	}
}

func TestMageTargets(t *testing.T) {
	c := checker(t)
	for _, want := range []string{"dev:test", "sandbox", "deployAll", "destroyAll", "verify", "status", "rotate", "up:network", "preview:secrets", "destroy:kms", "outputs:database", "pulumiCLI", "configure", "dev:docsTables"} {
		if !c.Targets[want] {
			t.Errorf("target %s not found among %v", want, c.Targets)
		}
	}
	if c.Targets["default"] || c.Targets["up"] {
		t.Errorf("not targets: %v", c.Targets)
	}
}

func TestFlags(t *testing.T) {
	r := repotest.Root(t)
	for dir, want := range map[string][]string{
		"ops/cmd/audit":     {"input", "policy", "json", "rules"},
		"ops/cmd/synth":     {"out", "env", "region", "class"},
		"tools/cmd/chaos":   {"seed", "rotations", "strategy", "v"},
		"tools/cmd/sandbox": {"rotations", "strategy", "v"},
	} {
		flags, ok, err := Flags(filepath.Join(r, dir))
		if err != nil || !ok {
			t.Fatalf("%s: %v %v", dir, ok, err)
		}
		for _, f := range want {
			if !flags[f] {
				t.Errorf("%s: flag %s not found in %v", dir, f, flags)
			}
		}
	}
}

// TestPlantedErrors: each kind of mistake is reported, with its line.
func TestPlantedErrors(t *testing.T) {
	c := checker(t)
	text := strings.Join([]string{
		"# Title",
		"",
		"```sh",
		"go run mage.go deployAll   # fine",
		"go run mage.go deployEverything",
		"go run ./tools/cmd/sandbox -strategy alternating -rotationz 5",
		"go run ./tools/cmd/nothing",
		"```",
		"",
		"Run `mage up:<layer>` or `mage upp:<layer>`, `go test ./ops/nowhere/...`, see",
		"[the rotator](docs/rotator.md#strategies), [gone](docs/gone.md),",
		"[no heading](docs/rotator.md#no-such-heading) and [here](#title).",
	}, "\n")
	problems, err := c.CheckText("README.md", text)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`README.md:5: mage target "deployEverything" does not exist`,
		`README.md:6: go run ./tools/cmd/sandbox: flag -rotationz is not defined`,
		`README.md:7: go run ./tools/cmd/nothing: no command`,
		`README.md:10: mage target namespace "upp" does not exist`,
		`README.md:10: package ./ops/nowhere/... does not exist`,
		`README.md:11: link docs/gone.md: docs/gone.md does not exist`,
		`README.md:12: link docs/rotator.md#no-such-heading: docs/rotator.md has no heading #no-such-heading`,
	}
	got := strings.Join(problems, "\n")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
	if len(problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(problems), len(want), got)
	}
}

func TestSlug(t *testing.T) {
	for h, want := range map[string]string{
		"In `pulumi preview` (policy pack)":                    "in-pulumi-preview-policy-pack",
		"What it costs, how long it takes":                     "what-it-costs-how-long-it-takes",
		"Moving an environment from the master-password model": "moving-an-environment-from-the-master-password-model",
	} {
		if got := Slug(h); got != want {
			t.Errorf("Slug(%q) = %q, want %q", h, got, want)
		}
	}
}

const (
	rulesBegin = "<!-- BEGIN audit -rules -->\n"
	rulesEnd   = "<!-- END audit -rules -->"
)

var countRe = regexp.MustCompile(`(\d+) rules \((\d+) high, (\d+) medium\)`)

// TestPolicyRules: docs/policy.md's rules table is what
// `go run ./ops/cmd/audit -rules` prints (the same catalog, the same
// writer), and its count line adds up. -update rewrites the table.
func TestPolicyRules(t *testing.T) {
	r := repotest.Root(t)
	pack, err := audit.Load(context.Background(), filepath.Join(r, "policy"))
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := audit.WriteRules(&want, pack.Rules()); err != nil {
		t.Fatal(err)
	}
	s := repotest.DocBlock(t, "docs/policy.md", rulesBegin, rulesEnd, want.String(), *update,
		"docs/policy.md's rules table differs from `go run ./ops/cmd/audit -rules`; run `go test ./ops/internal/docscheck -run TestPolicyRules -update`.")
	high, medium := 0, 0
	for _, rule := range pack.Rules() {
		switch rule.Severity {
		case "high":
			high++
		case "medium":
			medium++
		}
	}
	m := countRe.FindStringSubmatch(s)
	if m == nil {
		t.Fatal("docs/policy.md has no line \"N rules (H high, M medium)\"")
	}
	n, _ := strconv.Atoi(m[1])
	h, _ := strconv.Atoi(m[2])
	md, _ := strconv.Atoi(m[3])
	if n != len(pack.Rules()) || h != high || md != medium {
		t.Errorf("docs/policy.md says %s; the catalog has %d rules (%d high, %d medium)", m[0], len(pack.Rules()), high, medium)
	}
}

// declarations are the repository's root and every layer's config
// declarations.
func declarations(t *testing.T) (string, []configdecl.Layer) {
	t.Helper()
	r := repotest.Root(t)
	decl, err := configdecl.LoadAll(r, layers.All)
	if err != nil {
		t.Fatal(err)
	}
	return r, decl
}

// configDocs are the documents with the configuration tables of decl, by
// path from the root r.
func configDocs(t *testing.T, r string, decl []configdecl.Layer) map[string]string {
	t.Helper()
	docs, err := configdecl.Docs(r, decl)
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// TestConfigTables: the configuration tables of README.md and
// stacks/<layer>/README.md are what stacks/<layer>/Pulumi.yaml declares
// (generated between their <!-- config:<name>:begin/end --> markers).
func TestConfigTables(t *testing.T) {
	r, decl := declarations(t)
	want := configDocs(t, r, decl)
	if len(want) != len(layers.All)+1 {
		t.Fatalf("tables in %d documents, want README.md and every layer's", len(want))
	}
	for rel, text := range want {
		have, err := os.ReadFile(filepath.Join(r, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		if string(have) != text {
			t.Errorf("%s: a configuration table differs from stacks/<layer>/Pulumi.yaml; run `%s`", rel, configdecl.RegenerateCommand)
		}
	}
}

// A declaration changed after the tables were written makes them stale,
// and a document without its markers is an error, not a silent skip.
func TestConfigTablesStale(t *testing.T) {
	r, decl := declarations(t)
	before := configDocs(t, r, decl)
	decl[0].Keys[len(decl[0].Keys)-1].Description += " Changed."
	after := configDocs(t, r, decl)
	layer := "stacks/" + decl[0].Name + "/README.md"
	if before[layer] == after[layer] || !strings.Contains(after[layer], " Changed. |") {
		t.Errorf("%s does not follow its declarations", layer)
	}
	if _, err := configdecl.Replace("# no markers\n", "network", "x"); err == nil {
		t.Error("a document without markers passed")
	}
}
