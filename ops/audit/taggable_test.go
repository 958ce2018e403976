package audit_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/ops/audit"
)

// policy/taggable.rego is what the generator makes from the pinned provider
// SDK: a hand edit, or a provider upgrade without regenerating, fails here.
func TestTaggableRegoIsGenerated(t *testing.T) {
	dir, err := audit.DownloadModule(audit.TaggableModule)
	if err != nil {
		t.Fatal(err)
	}
	taggable, noDefault, err := audit.TaggableTypes(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := audit.TaggableRego(taggable, noDefault)
	got, err := os.ReadFile(filepath.Join("..", "..", "policy", "taggable.rego"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("policy/taggable.rego is not what the generator makes from %s: run go run mage.go dev:taggable", audit.TaggableModule)
	}
	for _, typ := range []string{"aws:secretsmanager/secret:Secret", "aws:rds/cluster:Cluster", "aws:kms/key:Key"} {
		if !strings.Contains(string(got), `"`+typ+`"`) {
			t.Errorf("taggable_types lacks %s", typ)
		}
	}
}

// The stacks build with the SDK the list was made from.
func TestTaggableModuleIsTheStacksPulumiAWS(t *testing.T) {
	path, version, _ := strings.Cut(audit.TaggableModule, "@")
	for _, layer := range []string{"network", "kms", "database", "secrets", "kit"} {
		mod, err := os.ReadFile(filepath.Join("..", "..", "stacks", layer, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(mod), path+" "+version) {
			t.Errorf("stacks/%s/go.mod does not require %s %s, the SDK policy/taggable.rego is made from: regenerate it after an upgrade (go run mage.go dev:taggable) and update audit.TaggableModule", layer, path, version)
		}
	}
}

// The scan sees what the provider's files say: an Args struct with a Tags
// input makes a type taggable, a TagsAll output lets default tags reach it.
func TestTaggableTypesReadsArgsAndTagsAll(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(dir, "go", "aws", rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/withall.go", "type Thing struct {\n\tTagsAll pulumi.StringMapOutput\n}\nctx.RegisterResource(\"aws:a/thing:Thing\", name)\ntype ThingArgs struct {\n\tTags pulumi.StringMapInput\n}\n")
	write("a/noall.go", "ctx.RegisterResource(\"aws:a/group:Group\", name)\ntype GroupArgs struct {\n\tTags pulumi.StringMapInput\n}\n")
	write("b/untagged.go", "ctx.RegisterResource(\"aws:b/perm:Perm\", name)\ntype PermArgs struct {\n\tName pulumi.StringInput\n}\ntype Other struct {\n\tTags pulumi.StringMapInput\n}\n")
	taggable, noDefault, err := audit.TaggableTypes(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(taggable, ","); got != "aws:a/group:Group,aws:a/thing:Thing" {
		t.Errorf("taggable = %s", got)
	}
	if got := strings.Join(noDefault, ","); got != "aws:a/group:Group" {
		t.Errorf("no default tags = %s", got)
	}
	if _, _, err := audit.TaggableTypes(t.TempDir()); err == nil {
		t.Error("an empty folder gave no error")
	}
}
