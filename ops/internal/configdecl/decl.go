package configdecl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"gopkg.in/yaml.v3"

	"github.com/dbvault/dbvault/stacks/kit"
)

// Key is one declared config key of a layer.
type Key struct {
	// Name is the key as declared, without the project ("vpcCidr").
	Name string
	// Type is the declared type (string, integer, boolean, array,
	// object), or "" for a key declared without one: its default depends
	// on another key, and its description starts with its real type.
	Type string
	// Items is the element type of an array.
	Items string
	// Default is the declared default as YAML decodes it; nil means the
	// key is required.
	Default any
	// Description is the declaration's rule.
	Description string
}

// Layer is one layer's declarations, in the order Pulumi.yaml lists them.
type Layer struct {
	Name    string // stacks/<Name>
	Project string // vault-network
	Keys    []Key
}

// Load reads stacks/<layer>/Pulumi.yaml under root as the Pulumi CLI does
// (its JSON schema and validation: a default of another type than the
// declared one is an error) and returns its declarations in file order.
func Load(root, layer string) (Layer, error) {
	path := filepath.Join(root, "stacks", layer, "Pulumi.yaml")
	p, err := workspace.LoadProject(path)
	if err != nil {
		return Layer{}, fmt.Errorf("%s: %w", path, err)
	}
	b, err := os.ReadFile(path) // #nosec G304 -- the repository's own project file
	if err != nil {
		return Layer{}, err
	}
	// The project's Config is a map; the file's order is the one its
	// authors chose to read it in, so the order comes from the YAML nodes.
	var doc struct {
		Config yaml.Node `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return Layer{}, fmt.Errorf("%s: %w", path, err)
	}
	out := Layer{Name: layer, Project: p.Name.String()}
	for i := 0; i+1 < len(doc.Config.Content); i += 2 {
		name := doc.Config.Content[i].Value
		d, ok := p.Config[name]
		if !ok {
			return Layer{}, fmt.Errorf("%s: config key %s not in the loaded project", path, name)
		}
		k := Key{Name: name, Default: d.Default, Description: d.Description}
		if d.Type != nil {
			k.Type = *d.Type
		}
		if d.Items != nil {
			k.Items = d.Items.Type
		}
		out.Keys = append(out.Keys, k)
	}
	if len(out.Keys) != len(p.Config) {
		return Layer{}, fmt.Errorf("%s: %d keys in file order, %d declared", path, len(out.Keys), len(p.Config))
	}
	return out, nil
}

// LoadAll loads the layers named, in that order.
func LoadAll(root string, layers []kit.Layer) ([]Layer, error) {
	out := make([]Layer, 0, len(layers))
	for _, l := range layers {
		d, err := Load(root, l.Name)
		if err != nil {
			return nil, err
		}
		if d.Project != l.Project {
			return nil, fmt.Errorf("stacks/%s/Pulumi.yaml: project %s, the layer's is %s", l.Name, d.Project, l.Project)
		}
		out = append(out, d)
	}
	return out, nil
}

// Qualified is the key as stack config names it ("vault-network:vpcCidr").
func (l Layer) Qualified(k Key) string { return l.Project + ":" + k.Name }

// Value writes a config value as a YAML flow scalar or collection: JSON,
// which YAML reads as the same value (strings double-quoted so that ""
// and values such as `/@"'\` survive a copy into the file).
func Value(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(buf.String())
}

// TypeName is the key's type as a reader says it: the declared type
// (arrays as "list of <items>"), or for an untyped key the type its
// description starts with.
func (k Key) TypeName() string {
	switch k.Type {
	case "array":
		if k.Items != "" {
			return "list of " + k.Items
		}
		return "list"
	case "":
		first, _, _ := strings.Cut(k.Description, " ")
		first = strings.TrimRight(first, ":,")
		switch first {
		case "integer", "list", "string", "boolean":
			return first
		}
		return "string"
	}
	return k.Type
}
