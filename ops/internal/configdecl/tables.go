package configdecl

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
)

// RegenerateCommand is the command that rewrites the generated tables.
const RegenerateCommand = "go run mage.go dev:docsTables"

// Markers delimit a generated table: <!-- config:<name>:begin --> and
// <!-- config:<name>:end -->, each on a line of its own.
func Markers(name string) (begin, end string) {
	return "<!-- config:" + name + ":begin -->\n", "<!-- config:" + name + ":end -->"
}

// Replace puts body between name's markers in doc.
func Replace(doc, name, body string) (string, error) {
	begin, end := Markers(name)
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		return "", fmt.Errorf("no %q ... %q block", strings.TrimSpace(begin), end)
	}
	return doc[:i+len(begin)] + body + doc[j:], nil
}

// Common are the keys every layer declares alike (type, default, rule),
// by name.
func Common(layers []Layer) map[string]bool {
	out := map[string]bool{}
	if len(layers) == 0 {
		return out
	}
	for _, k := range layers[0].Keys {
		alike := true
		for _, l := range layers[1:] {
			other, ok := l.key(k.Name)
			alike = alike && ok && reflect.DeepEqual(other, k)
		}
		if alike {
			out[k.Name] = true
		}
	}
	return out
}

func (l Layer) key(name string) (Key, bool) {
	for _, k := range l.Keys {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// cell makes text safe in a Markdown table cell: a pipe would end the
// cell, and <org> outside a code span would be read as an HTML tag and
// vanish (inside one an entity would show as written).
func cell(s string) string {
	parts := strings.Split(s, "`")
	for i := range parts {
		if i%2 == 0 {
			parts[i] = strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(parts[i])
		}
	}
	return strings.ReplaceAll(strings.Join(parts, "`"), "|", `\|`)
}

// Table is the Markdown table of keys: key, type, default, rule.
func Table(keys []Key) string {
	var b strings.Builder
	b.WriteString("| key | type | default | rule |\n| --- | --- | --- | --- |\n")
	for _, k := range keys {
		def := "required"
		if k.Default != nil {
			def = "`" + Value(k.Default) + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", k.Name, k.TypeName(), def, cell(k.Description))
	}
	return b.String()
}

// LayerTable is the table of l's keys that not every layer shares.
func LayerTable(l Layer, common map[string]bool) string {
	var keys []Key
	for _, k := range l.Keys {
		if !common[k.Name] {
			keys = append(keys, k)
		}
	}
	return Table(keys)
}

// CommonTable is the table of the keys every layer declares alike.
func CommonTable(layers []Layer) string {
	common := Common(layers)
	var keys []Key
	for _, k := range layers[0].Keys {
		if common[k.Name] {
			keys = append(keys, k)
		}
	}
	return Table(keys)
}

// Overview is README.md's table: every layer's keys, each linked to its
// row's table in the layer's README.
func Overview(layers []Layer) string {
	common := Common(layers)
	var b strings.Builder
	b.WriteString("| layer | keys (type, default and rule in the layer's README) |\n| --- | --- |\n")
	link := func(layer, anchor string, keys []Key) string {
		names := make([]string, 0, len(keys))
		for _, k := range keys {
			names = append(names, "`"+k.Name+"`")
		}
		return fmt.Sprintf("%s ([table](stacks/%s/README.md#%s))", strings.Join(names, ", "), layer, anchor)
	}
	var shared []Key
	for _, k := range layers[0].Keys {
		if common[k.Name] {
			shared = append(shared, k)
		}
	}
	fmt.Fprintf(&b, "| every layer | %s |\n", link(layers[0].Name, "common-config-every-layer", shared))
	for _, l := range layers {
		var own []Key
		for _, k := range l.Keys {
			if !common[k.Name] {
				own = append(own, k)
			}
		}
		fmt.Fprintf(&b, "| [%s](stacks/%s/README.md) | %s |\n", l.Name, l.Name, link(l.Name, "config", own))
	}
	return b.String()
}

// Docs are the documents that hold generated tables, relative to root,
// with their content as the declarations make it: README.md's overview
// (block "layers"), and in each stacks/<layer>/README.md its own keys
// (block "<layer>") and the keys every layer shares (block "common").
func Docs(root string, layers []Layer) (map[string]string, error) {
	out := map[string]string{}
	update := func(rel string, blocks map[string]string) error {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel))) // #nosec G304 -- the repository's own documents
		if err != nil {
			return err
		}
		s := string(b)
		for name, body := range blocks {
			if s, err = Replace(s, name, body); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
		}
		out[rel] = s
		return nil
	}
	if err := update("README.md", map[string]string{"layers": Overview(layers)}); err != nil {
		return nil, err
	}
	common := Common(layers)
	shared := CommonTable(layers)
	for _, l := range layers {
		if err := update("stacks/"+l.Name+"/README.md", map[string]string{l.Name: LayerTable(l, common), "common": shared}); err != nil {
			return nil, err
		}
	}
	return out, nil
}
