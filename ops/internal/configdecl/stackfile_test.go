package configdecl

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"gopkg.in/yaml.v3"

	"github.com/dbvault/dbvault/ops/internal/repotest"
	"github.com/dbvault/dbvault/ops/layers"
)

var commented = regexp.MustCompile(`(?m)^  # ([a-z-]+:[A-Za-z]+): (.*)$`)

// loadStack parses text as stack config of layer's project, as the CLI does.
func loadStack(t *testing.T, layer, text string) *workspace.ProjectStack {
	t.Helper()
	path := filepath.Join(t.TempDir(), "Pulumi.conf.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := workspace.LoadProjectStack(nil, project(t, layer), path)
	if err != nil {
		t.Fatalf("%s: the written file is no stack config: %v\n%s", layer, err, text)
	}
	return st
}

// The file configure writes parses as the layer's stack config, sets only
// environmentSuffix, and holds every declared key and aws:region; with
// every key uncommented it still parses and sets each key to its declared
// default, of the declared type.
func TestStackFile(t *testing.T) {
	for _, l := range layers.All {
		t.Run(l.Name, func(t *testing.T) {
			decl, err := Load(repotest.Root(t), l.Name)
			if err != nil {
				t.Fatal(err)
			}
			text := string(StackFile(decl, "conf"))
			st := loadStack(t, l.Name, text)
			if len(st.Config) != 1 {
				t.Errorf("the file sets %v, want environmentSuffix alone", st.Config)
			}
			if v, err := st.Config[config.MustMakeKey(l.Project, "environmentSuffix")].Value(config.NopDecrypter); err != nil || v != "conf" {
				t.Errorf("environmentSuffix %q %v", v, err)
			}
			mentioned := map[string]bool{}
			for _, m := range commented.FindAllStringSubmatch(text, -1) {
				mentioned[m[1]] = true
			}
			mentioned[l.Project+":environmentSuffix"] = true
			decls := declared(project(t, l.Name))
			for k := range decls {
				if !mentioned[k] {
					t.Errorf("%s is not in the file", k)
				}
			}
			if !mentioned["aws:region"] || len(mentioned) != len(decls)+1 {
				t.Errorf("the file mentions %d keys, want the %d declared and aws:region", len(mentioned), len(decls))
			}
			all := loadStack(t, l.Name, commented.ReplaceAllString(text, "  $1: $2"))
			for k, d := range decls {
				if d.Default == nil {
					continue
				}
				v, ok := all.Config[config.MustParseKey(k)]
				if !ok {
					t.Errorf("%s: uncommented, not set", k)
					continue
				}
				raw, err := v.Value(config.NopDecrypter)
				if err != nil {
					t.Fatal(err)
				}
				var got, want any = raw, cliValue(t, d.Default)
				if v.Object() {
					_ = json.Unmarshal([]byte(raw), &got)
					_ = json.Unmarshal([]byte(want.(string)), &want)
					b1, _ := json.Marshal(got)
					b2, _ := json.Marshal(want)
					got, want = string(b1), string(b2)
				}
				if got != want {
					t.Errorf("%s: uncommented %v, declared default %v", k, got, want)
				}
				var content any = raw
				if v.Object() {
					_ = json.Unmarshal([]byte(raw), &content)
				}
				if d.Type != nil && !workspace.ValidateConfigValue(*d.Type, d.Items, content) {
					t.Errorf("%s: uncommented %s is not a %s", k, raw, *d.Type)
				}
			}
		})
	}
}

// configure never touches a file that is there: WriteStackFile reports it
// and leaves it byte for byte.
func TestWriteStackFileKeepsAnExistingFile(t *testing.T) {
	root := t.TempDir()
	decl, err := Load(repotest.Root(t), "network")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "stacks", "network"), 0o750); err != nil {
		t.Fatal(err)
	}
	mine := "config:\n  vault-network:vpcCidr: 10.9.0.0/16\n"
	path := StackFileName(root, "network", "dev")
	if err := os.WriteFile(path, []byte(mine), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := WriteStackFile(root, decl, "dev"); !errors.Is(err, ErrExists) || got != path {
		t.Fatalf("an existing file: %s, %v", got, err)
	}
	if b, _ := os.ReadFile(path); string(b) != mine {
		t.Fatalf("the existing file changed:\n%s", b)
	}
	fresh, err := WriteStackFile(root, decl, "qa")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(fresh); string(b) != string(StackFile(decl, "qa")) {
		t.Fatalf("%s is not the stack file", fresh)
	}
}

// Pulumi edits a stack file through YAML nodes, keeping comments where
// they attach (stack init adds encryptionsalt, config set a key). Every
// commented-out key must stay inside config after such an edit, where
// uncommenting it sets the key; a comment after config's last key would
// move to the top level.
func TestStackFileCommentsSurviveAnEdit(t *testing.T) {
	decl, err := Load(repotest.Root(t), "network")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(StackFile(decl, "conf"), &doc); err != nil {
		t.Fatal(err)
	}
	top := doc.Content[0]
	cfg := top.Content[1]
	cfg.Content = append(cfg.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Value: "vault-network:azCount"},
		&yaml.Node{Kind: yaml.ScalarNode, Value: "2"})
	top.Content = append(top.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Value: "encryptionsalt"},
		&yaml.Node{Kind: yaml.ScalarNode, Value: "v1:salt"})
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		t.Fatal(err)
	}
	edited := buf.String()
	if n, want := len(commented.FindAllString(edited, -1)), len(decl.Keys); n != want {
		t.Fatalf("after an edit %d commented-out keys are inside config, want %d:\n%s", n, want, edited)
	}
}
