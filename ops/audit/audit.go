// Package audit evaluates the project's Rego policy pack (policy/) over the
// synthesized layers (build/synth/<layer>.json) with the OPA Go library and
// reports every violation. The same Rego runs under `pulumi preview
// --policy-pack policy/` (see policy/pulumi.rego); this package is the offline
// path that needs neither AWS nor the Pulumi CLI.
package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/open-policy-agent/opa/v1/rego"
)

// Package is the Rego package every policy file declares. Pulumi's OPA
// analyzer requires one package per pack.
const Package = "dbvault"

// Severities, from the rule catalog: high findings fail the gate
// (CountHigh), medium ones are reported.
const (
	High   = "high"
	medium = "medium"
)

// Finding is one violation of a rule by one resource.
type Finding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Layer    string `json:"layer"`
	Resource string `json:"resource"`
	Type     string `json:"type"`
	Message  string `json:"message"`
}

// Rule is one entry of the rule catalog (policy/catalog.rego).
type Rule struct {
	ID       string `json:"-"`
	Severity string `json:"severity"`
	Title    string `json:"title"`
	Reason   string `json:"reason"`
	// Class, when set, is the one environmentClass the rule applies to.
	Class string `json:"class,omitempty"`
}

// Pack is the compiled policy pack.
type Pack struct {
	findings rego.PreparedEvalQuery
	rules    []Rule
}

// Load reads every .rego file under dir (as Pulumi's analyzer does, sub
// folders included), compiles them with the OPA v1 language and reads the
// rule catalog.
func Load(ctx context.Context, dir string) (*Pack, error) {
	modules, err := readModules(dir)
	if err != nil {
		return nil, err
	}
	opts := []func(*rego.Rego){rego.Query("data." + Package + ".findings")}
	for name, src := range modules {
		opts = append(opts, rego.Module(name, src))
	}
	findings, err := rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: compile policy pack %s: %w", dir, err)
	}
	rules, err := readCatalog(ctx, modules)
	if err != nil {
		return nil, err
	}
	return &Pack{findings: findings, rules: rules}, nil
}

// readModules returns the pack's Rego sources by path (the tests also
// compile them another way, as Pulumi's analyzer does).
func readModules(dir string) (map[string]string, error) {
	// os.Root keeps the walk inside dir, symlinks included.
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("audit: read policy pack: %w", err)
	}
	defer root.Close()
	fsys := root.FS()
	modules := map[string]string{}
	err = fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || filepath.Ext(path) != ".rego" {
			return nil
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		modules[filepath.Join(dir, path)] = string(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit: read policy pack %s: %w", dir, err)
	}
	if len(modules) == 0 {
		return nil, fmt.Errorf("audit: no .rego files in %s", dir)
	}
	return modules, nil
}

func readCatalog(ctx context.Context, modules map[string]string) ([]Rule, error) {
	opts := []func(*rego.Rego){rego.Query("data." + Package + ".rules")}
	for name, src := range modules {
		opts = append(opts, rego.Module(name, src))
	}
	rs, err := rego.New(opts...).Eval(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: read rule catalog: %w", err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return nil, errors.New("audit: the policy pack defines no rule catalog (data.dbvault.rules)")
	}
	var byID map[string]Rule
	if err := remarshal(rs[0].Expressions[0].Value, &byID); err != nil {
		return nil, fmt.Errorf("audit: rule catalog: %w", err)
	}
	rules := make([]Rule, 0, len(byID))
	for id, r := range byID {
		r.ID = id
		rules = append(rules, r)
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	return rules, nil
}

// Rules returns the rule catalog, sorted by id.
func (p *Pack) Rules() []Rule { return append([]Rule(nil), p.rules...) }

// Evaluate returns the findings of every rule over one synth document.
func (p *Pack) Evaluate(ctx context.Context, doc any) ([]Finding, error) {
	rs, err := p.findings.Eval(ctx, rego.EvalInput(doc))
	if err != nil {
		return nil, fmt.Errorf("audit: evaluate: %w", err)
	}
	var out []Finding
	for _, r := range rs {
		for _, e := range r.Expressions {
			var fs []Finding
			if err := remarshal(e.Value, &fs); err != nil {
				return nil, fmt.Errorf("audit: findings: %w", err)
			}
			out = append(out, fs...)
		}
	}
	Sort(out)
	return out, nil
}

// Document is one synthesized layer read from disk.
type Document struct {
	// Path is the file it came from.
	Path string
	// Data is the parsed JSON, the policies' input.
	Data map[string]any
}

// ReadDir reads every *.json file of dir as a synth document. A file that is
// not a synth document (no "resources" list) is an error, not an empty layer.
func ReadDir(dir string) ([]Document, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("audit: list %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("audit: no synth files (*.json) in %s; run `go run mage.go dev:synth` or set AUDIT_INPUT", dir)
	}
	sort.Strings(paths)
	docs := make([]Document, 0, len(paths))
	for _, path := range paths {
		b, err := os.ReadFile(path) // #nosec G304 -- the input folder is the caller's choice.
		if err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var data map[string]any
		if err := dec.Decode(&data); err != nil {
			return nil, fmt.Errorf("audit: %s is not JSON: %w", path, err)
		}
		if _, ok := data["resources"].([]any); !ok {
			return nil, fmt.Errorf("audit: %s is not a synth file: it has no \"resources\" list", path)
		}
		if _, ok := data["layer"].(string); !ok {
			data["layer"] = strings.TrimSuffix(filepath.Base(path), ".json")
		}
		docs = append(docs, Document{Path: path, Data: data})
	}
	return docs, nil
}

// EvaluateDir evaluates every synth document of dir.
func (p *Pack) EvaluateDir(ctx context.Context, dir string) ([]Finding, error) {
	docs, err := ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var all []Finding
	for _, d := range docs {
		fs, err := p.Evaluate(ctx, d.Data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.Path, err)
		}
		all = append(all, fs...)
	}
	Sort(all)
	return all, nil
}

// Sort orders findings for reading: high first, then by rule, layer, resource.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if (a.Severity == High) != (b.Severity == High) {
			return a.Severity == High
		}
		for _, c := range [][2]string{{a.Rule, b.Rule}, {a.Layer, b.Layer}, {a.Resource, b.Resource}, {a.Message, b.Message}} {
			if c[0] != c[1] {
				return c[0] < c[1]
			}
		}
		return false
	})
}

// CountHigh returns how many findings have severity high.
func CountHigh(fs []Finding) int {
	n := 0
	for _, f := range fs {
		if f.Severity == High {
			n++
		}
	}
	return n
}

// WriteTable writes the findings as a table: rule, severity, layer, resource, message.
func WriteTable(w io.Writer, fs []Finding) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tSEVERITY\tLAYER\tRESOURCE\tMESSAGE")
	for _, f := range fs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Rule, f.Severity, f.Layer, f.Resource, f.Message)
	}
	return tw.Flush()
}

// WriteRules writes the rule catalog as a Markdown table (docs/policy.md's list).
func WriteRules(w io.Writer, rules []Rule) error {
	var b strings.Builder
	b.WriteString("| id | severity | what | why |\n| --- | --- | --- | --- |\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.ID, r.Severity, mdEscape(r.Title), mdEscape(r.Reason))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// remarshal converts an OPA result value into a Go type through JSON.
func remarshal(v any, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
