package audit

import (
	"context"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// The analyzer's rule-name patterns (pulumi-policy-opa,
// cmd/pulumi-analyzer-policy-opa/policy.go): rules so named are policies;
// every other rule is a helper.
var analyzerPolicyName = regexp.MustCompile(`^(stack_)?(deny|violation|warn)(_[a-zA-Z0-9]+)*$`)

// compileAsAnalyzer compiles the pack the way Pulumi's OPA analyzer does: all
// .rego files of the folder, parsed as Rego v0 (our files opt into v1 with
// `import rego.v1`), one package for all.
func compileAsAnalyzer(t *testing.T) *ast.Compiler {
	t.Helper()
	modules, err := readModules(policyDir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ast.CompileModulesWithOpt(modules, ast.CompileOpts{ParserOptions: ast.ParserOptions{RegoVersion: ast.RegoV0}})
	if err != nil {
		t.Fatalf("the analyzer could not compile the pack: %v", err)
	}
	return c
}

// TestPackLoadsInPulumiAnalyzer checks what the analyzer requires of a pack:
// one package, and no helper that it would mistake for a policy.
func TestPackLoadsInPulumiAnalyzer(t *testing.T) {
	c := compileAsAnalyzer(t)
	policies := map[string]bool{}
	for name, m := range c.Modules {
		if got := m.Package.Path.String(); got != "data."+Package {
			t.Errorf("%s: package %s, want %s (the analyzer needs one package per pack)", name, got, Package)
		}
		for _, r := range m.Rules {
			if n := r.Head.Name.String(); analyzerPolicyName.MatchString(n) {
				policies[n] = true
			}
		}
	}
	if len(policies) != 3 || !policies["stack_deny"] || !policies["stack_warn"] || !policies["deny"] {
		t.Errorf("rules the analyzer evaluates: %v, want exactly stack_deny, stack_warn and the version guard deny", keys(policies))
	}
}

// analyzerResource builds one resource of the analyzer's stack input as
// pulumi-policy-opa does (buildOPAInput/buildStackOPAInput): metadata, the
// properties both nested and at the top level, and dependencies. props goes
// through Pulumi's PropertyMap and Mappable, so secrets and unknowns reach
// OPA exactly as the analyzer passes them.
//
// provider is the analyzer's __provider ({"type", "name", "urn",
// "properties"}; empty for the default provider).
func analyzerResource(urn, typ, name string, props resource.PropertyMap, protect bool, deps []string, provider map[string]any) map[string]any {
	opts := map[string]any{
		"protect":             protect,
		"ignoreChanges":       []string{},
		"deleteBeforeReplace": false,
		"customTimeouts":      map[string]any{"create": 0.0, "update": 0.0, "delete": 0.0},
		"parent":              "",
	}
	obj := map[string]any{
		"type": typ, "urn": urn, "name": name, "__name": name,
		"options": opts, "provider": provider,
		"properties": props.Mappable(),
	}
	for k, v := range props.Mappable() {
		obj[k] = v
	}
	obj["__type"], obj["__urn"], obj["__options"] = typ, urn, opts
	obj["__properties"], obj["__provider"] = props.Mappable(), provider
	obj["dependencies"] = deps
	return obj
}

// analyzerProvider is the __provider of a synth resource: its provider's
// URN and properties, with defaultTags JSON-encoded as the engine keeps an
// object-valued provider input.
func analyzerProvider(t *testing.T, r map[string]any) map[string]any {
	t.Helper()
	urn, _ := r["provider"].(string)
	if urn == "" {
		return map[string]any{}
	}
	dt, err := json.Marshal(map[string]any{"tags": r["defaultTags"]})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{
		"type": "pulumi:providers:aws", "name": "aws", "urn": urn,
		"properties": map[string]any{"region": "us-east-1", "defaultTags": string(dt)},
	}
}

// stackInput turns a synth fixture into the analyzer's stack input. mark
// may replace property values (e.g. with secrets or unknowns).
func stackInput(t *testing.T, d doc, mark func(typ, name string, props resource.PropertyMap)) map[string]any {
	t.Helper()
	var rs []any
	for _, r := range d.resources() {
		m := r.(map[string]any)
		props := resource.NewPropertyMapFromMap(m["inputs"].(map[string]any))
		if mark != nil {
			mark(m["type"].(string), m["name"].(string), props)
		}
		opts := m["options"].(map[string]any)
		var deps []string
		for _, dep := range opts["dependsOn"].([]any) {
			deps = append(deps, dep.(string))
		}
		rs = append(rs, analyzerResource(m["urn"].(string), m["type"].(string), m["name"].(string), props, opts["protect"] == true, deps, analyzerProvider(t, m)))
	}
	return map[string]any{"resources": rs}
}

// evalAnalyzer evaluates data.dbvault.<rule> as the analyzer does (Rego v0
// evaluation over the compiled pack) and returns its messages.
func evalAnalyzer(t *testing.T, c *ast.Compiler, rule string, input any) []string {
	t.Helper()
	rs, err := rego.New(
		rego.Query("data."+Package+"."+rule),
		rego.Compiler(c),
		rego.Input(input),
		rego.SetRegoVersion(ast.RegoV0),
	).Eval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, r := range rs {
		for _, e := range r.Expressions {
			vs, ok := e.Value.([]any)
			if !ok {
				t.Fatalf("%s evaluated to %T, the analyzer wants a set of strings", rule, e.Value)
			}
			for _, v := range vs {
				s, ok := v.(string)
				if !ok {
					t.Fatalf("%s holds %T, the analyzer wants strings", rule, v)
				}
				msgs = append(msgs, s)
			}
		}
	}
	sort.Strings(msgs)
	return msgs
}

// preview marks the values a preview would not know (an instance's cluster
// identifier, computed from the cluster; the master rotation's secretId, the
// cluster's master secret; a secret policy's secretArn, computed from the
// secret) and the secrets (a first secret version's secretString).
func preview(typ, name string, props resource.PropertyMap) {
	switch {
	case typ == tInstance:
		props["clusterIdentifier"] = resource.MakeComputed(resource.NewStringProperty(""))
	case typ == tRotation && name == "master-rotation":
		props["secretId"] = resource.MakeComputed(resource.NewStringProperty(""))
	case typ == tSecretPol && name == "secret-policy":
		props["secretArn"] = resource.MakeComputed(resource.NewStringProperty(""))
	case typ == tVersion:
		props["secretString"] = resource.MakeSecret(resource.NewStringProperty(`{"password":"hunter2-not-real"}`))
	}
}

func TestPulumiAdapterCompliantStacksPass(t *testing.T) {
	c := compileAsAnalyzer(t)
	for _, layer := range []string{"network", "kms", "database", "secrets"} {
		t.Run(layer, func(t *testing.T) {
			in := stackInput(t, fixture(t, layer), preview)
			if got := evalAnalyzer(t, c, "stack_deny", in); len(got) > 0 {
				t.Errorf("stack_deny on a compliant %s stack: %v", layer, got)
			}
			if got := evalAnalyzer(t, c, "stack_warn", in); len(got) > 0 {
				t.Errorf("stack_warn on a compliant %s stack: %v", layer, got)
			}
		})
	}
}

func TestPulumiAdapterShape(t *testing.T) {
	c := compileAsAnalyzer(t)
	in := stackInput(t, fixture(t, "database"), preview)
	rs, err := rego.New(
		rego.Query("data."+Package+".pulumi_to_synth(input)"),
		rego.Compiler(c),
		rego.Input(in),
		rego.SetRegoVersion(ast.RegoV0),
	).Eval(context.Background())
	if err != nil || len(rs) != 1 {
		t.Fatalf("pulumi_to_synth: %v (%d results)", err, len(rs))
	}
	got := doc(rs[0].Expressions[0].Value.(map[string]any))
	if got["layer"] != "database" || got["project"] != "vault-database" || got["stack"] != "dev" {
		t.Errorf("layer, project, stack = %v, %v, %v", got["layer"], got["project"], got["stack"])
	}
	if s := got["config"].(map[string]any)["environmentSuffix"]; s != "dev" {
		t.Errorf("environmentSuffix = %v, want the stack name dev", s)
	}
	if v := got.in(t, tRotation, "master-rotation")["secretId"]; v != "[unknown]" {
		t.Errorf("unknown master secretId became %v, want [unknown]", v)
	}
	if v := got.in(t, tInstance, "instance-a")["clusterIdentifier"]; v != "[unknown]" {
		t.Errorf("unknown clusterIdentifier became %v, want [unknown]", v)
	}
	if v := got.in(t, tCluster, "cluster")["storageEncrypted"]; v != true {
		t.Errorf("storageEncrypted became %v, want true", v)
	}
	deps := got.res(t, tCluster, "cluster")["options"].(map[string]any)["dependsOn"].([]any)
	if len(deps) != 3 {
		t.Errorf("dependsOn = %v, want the three log groups", deps)
	}
	rs, err = rego.New(
		rego.Query("data."+Package+".pulumi_to_synth(input)"),
		rego.Compiler(c),
		rego.Input(stackInput(t, fixture(t, "secrets"), preview)),
		rego.SetRegoVersion(ast.RegoV0),
	).Eval(context.Background())
	if err != nil || len(rs) != 1 {
		t.Fatalf("pulumi_to_synth (secrets): %v (%d results)", err, len(rs))
	}
	got = doc(rs[0].Expressions[0].Value.(map[string]any))
	if v := got.in(t, tVersion, "first-version")["secretString"]; v != "[secret]" {
		t.Errorf("secret secretString became %v, want [secret]", v)
	}
}

// TestPulumiAdapterReportsViolations breaks rules in the analyzer's input and
// expects high findings under stack_deny and medium ones under stack_warn.
func TestPulumiAdapterReportsViolations(t *testing.T) {
	c := compileAsAnalyzer(t)
	for _, tc := range []struct {
		layer, rule, policy string
		mutate              func(t *testing.T, d doc)
		mark                func(typ, name string, props resource.PropertyMap)
	}{
		{layer: "kms", rule: "KMS-001", policy: "stack_deny", mutate: set(tKey, "logs", "enableKeyRotation", false)},
		{layer: "network", rule: "NET-005", policy: "stack_deny", mutate: set(tIngress, "endpoints-from-private-a", "cidrIpv4", "0.0.0.0/0")},
		{layer: "database", rule: "RDS-006", policy: "stack_deny", mutate: func(t *testing.T, d doc) { d.remove(t, tInstance, "instance-b") }, mark: preview},
		{layer: "database", rule: "NET-008", policy: "stack_warn", mutate: func(t *testing.T, d doc) { d.remove(t, tFlowLog, "vpc-flow-log") }},
		{layer: "database", rule: "RDS-008", policy: "stack_deny", mutate: set(tCluster, "cluster", "backupRetentionPeriod", 1)},
		{layer: "secrets", rule: "GEN-001", policy: "stack_deny", mutate: func(t *testing.T, d doc) {
			d.res(t, tSecret, "secret")["options"].(map[string]any)["protect"] = true
		}},
		{layer: "secrets", rule: "SEC-001", policy: "stack_deny", mark: func(typ, name string, props resource.PropertyMap) {
			if typ == tSecret {
				delete(props, "kmsKeyId")
			}
		}},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			d := fixture(t, tc.layer)
			if tc.mutate != nil {
				tc.mutate(t, d)
			}
			msgs := evalAnalyzer(t, c, tc.policy, stackInput(t, d, tc.mark))
			if len(msgs) != 1 || !strings.HasPrefix(msgs[0], tc.rule+" ") || !strings.Contains(msgs[0], "fix:") {
				t.Fatalf("%s = %v, want one %s message with its fix", tc.policy, msgs, tc.rule)
			}
		})
	}
}

// TestPulumiAnalyzerVersionGuard: an analyzer too old to pass resource
// metadata (bare properties as input) gets a deny per resource instead of a
// silent pass; a current one gets none.
func TestPulumiAnalyzerVersionGuard(t *testing.T) {
	c := compileAsAnalyzer(t)
	d := fixture(t, "kms")
	key := d.res(t, tKey, "database")
	props := resource.NewPropertyMapFromMap(key["inputs"].(map[string]any))
	if got := evalAnalyzer(t, c, "deny", props.Mappable()); len(got) != 1 || !strings.Contains(got[0], "v0.2.0") {
		t.Errorf("deny on a bare-properties input = %v, want the upgrade message", got)
	}
	current := analyzerResource(key["urn"].(string), tKey, "database", props, false, nil, analyzerProvider(t, key))
	if got := evalAnalyzer(t, c, "deny", current); len(got) != 0 {
		t.Errorf("deny on a current analyzer's input = %v, want none", got)
	}
}
