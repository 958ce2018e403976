package audit

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// policyDir is the project's policy pack, relative to this package.
const policyDir = "../../policy"

var (
	packOnce sync.Once
	pack     *Pack
	packErr  error
)

// loadPack compiles the policy pack once for all tests.
func loadPack(t *testing.T) *Pack {
	t.Helper()
	packOnce.Do(func() { pack, packErr = Load(context.Background(), policyDir) })
	if packErr != nil {
		t.Fatal(packErr)
	}
	return pack
}

// doc is a synth document under test.
type doc map[string]any

// fixture returns a fresh copy of the compliant fixture of a layer.
func fixture(t *testing.T, layer string) doc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "compliant", layer+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var d doc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d doc) resources() []any { return d["resources"].([]any) }

// res returns the resource of type typ and logical name name.
func (d doc) res(t *testing.T, typ, name string) map[string]any {
	t.Helper()
	for _, r := range d.resources() {
		m := r.(map[string]any)
		if m["type"] == typ && m["name"] == name {
			return m
		}
	}
	t.Fatalf("fixture has no %s %q", typ, name)
	return nil
}

// in returns the inputs of the resource of type typ and name name.
func (d doc) in(t *testing.T, typ, name string) map[string]any {
	t.Helper()
	return d.res(t, typ, name)["inputs"].(map[string]any)
}

// add registers a new resource with the given inputs.
func (d doc) add(typ, name string, inputs map[string]any) {
	d["resources"] = append(d.resources(), map[string]any{
		"urn":     "urn:pulumi:dev::test::" + typ + "::" + name,
		"type":    typ,
		"name":    name,
		"parent":  "",
		"inputs":  inputs,
		"options": map[string]any{"ignoreChanges": []any{}, "protect": false, "retainOnDelete": false, "dependsOn": []any{}},
	})
}

// remove drops the resource of type typ and name name.
func (d doc) remove(t *testing.T, typ, name string) {
	t.Helper()
	d.res(t, typ, name) // fails when absent
	var kept []any
	for _, r := range d.resources() {
		m := r.(map[string]any)
		if !(m["type"] == typ && m["name"] == name) {
			kept = append(kept, r)
		}
	}
	d["resources"] = kept
}

// editPolicy parses the JSON policy at inputs[key], lets edit change it and
// writes it back as a JSON string, as synth holds it.
func editPolicy(t *testing.T, inputs map[string]any, key string, edit func(p map[string]any)) {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal([]byte(inputs[key].(string)), &p); err != nil {
		t.Fatal(err)
	}
	edit(p)
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	inputs[key] = string(b)
}

// statement returns statement i of policy p.
func statement(p map[string]any, i int) map[string]any {
	return p["Statement"].([]any)[i].(map[string]any)
}

// addStatement appends a statement to policy p.
func addStatement(p map[string]any, st map[string]any) {
	p["Statement"] = append(p["Statement"].([]any), st)
}

// tags returns the compliance tags, plus Name when name is not empty.
func tags(name string) map[string]any {
	t := map[string]any{"Environment": "dev", "CostCenter": "platform-security", "Compliance": "soc2"}
	if name != "" {
		t["Name"] = name
	}
	return t
}

// ruleSet returns the distinct rule ids of findings.
func ruleSet(fs []Finding) map[string]bool {
	out := map[string]bool{}
	for _, f := range fs {
		out[f.Rule] = true
	}
	return out
}
