package audit

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/ops/layers"
	"github.com/dbvault/dbvault/ops/synth"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = "../.."

// synthesize runs the project's four layers through ops/synth, as
// `go run ./ops/cmd/synth -class <class> -env dev` does (environmentClass set
// on every layer's project), and writes them into a temporary folder.
func synthesize(t *testing.T, class string) string {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	cfg := map[string]string{}
	for _, l := range layers.All {
		cfg[l.Project+":environmentClass"] = class
	}
	docs, err := synth.Run(synth.Options{Env: "dev", Region: "us-east-1", Root: root, Layers: layers.All, Config: cfg})
	if err != nil {
		t.Fatalf("synth failed (it needs the rotator zip: go run mage.go rotator): %v", err)
	}
	out := t.TempDir()
	if _, err := synth.Write(out, docs); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestProjectSynthPasses synthesizes the project's four layers in each
// environment class and requires the policy pack to find nothing in them:
// the project passes its own audit, ephemeral and production. It then breaks
// rules one at a time on the real output and sees them fire, and sees the
// other class's rules stay silent.
func TestProjectSynthPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("synthesizes every layer twice; not in -short")
	}
	for _, class := range []string{ephemeral, production} {
		t.Run(class, func(t *testing.T) { projectPasses(t, class) })
	}
}

func projectPasses(t *testing.T, class string) {
	out := synthesize(t, class)
	files, err := filepath.Glob(filepath.Join(out, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	if strings.Join(names, ",") != "database,kms,network,secrets" {
		t.Fatalf("synth wrote %v, want the four layers", names)
	}
	// The rules must have something to check: a pass over a graph without
	// these resources (or without the class) would prove nothing.
	docs, err := ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, d := range docs {
		project, _ := d.Data["project"].(string)
		if got := d.Data["config"].(map[string]any)[project+":environmentClass"]; got != class {
			t.Errorf("%s: config %s:environmentClass = %v, want %s", d.Data["layer"], project, got, class)
		}
		for _, r := range d.Data["resources"].([]any) {
			seen[r.(map[string]any)["type"].(string)] = true
		}
	}
	want := []string{tVPC, tFlowLog, tSubnet, tEndpoint, tIngress, tKey, tCluster, tInstance, tParams, tLogGroup, tSecret, tRotation, tSecretPol, tRole, tRolePol, tFunction, tPerm, tTopic, tTrail, tBucket}
	if class == production {
		want = append(want, tVersioning, tObjectLock)
	}
	for _, typ := range want {
		if !seen[typ] {
			t.Errorf("%s synth output has no %s for the rules to check", class, typ)
		}
	}
	fs, err := loadPack(t).EvaluateDir(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		t.Errorf("the %s project fails its own audit: %s (%s) %s/%s: %s", class, f.Rule, f.Severity, f.Layer, f.Resource, f.Message)
	}
	t.Run("breaking a rule in the real output fails it", func(t *testing.T) { breakRealSynth(t, docs, class) })
}

// realBreak breaks one rule on the first resource of a type in the project's
// real synth output (whose names differ from the fixtures'); when layer or
// name (a prefix of the logical name) is set, on the first such resource of
// that layer and name.
type realBreak struct {
	rule, typ   string
	edit        func(t *testing.T, r map[string]any)
	layer, name string
	// class, when set, is the only environmentClass whose output the
	// break fires in; in the other class's output it must not fire.
	class string
}

// realBreaks hold the breaks on the first resource of a type anywhere.
var realBreaks = []struct {
	rule, typ string
	edit      func(t *testing.T, r map[string]any)
}{
	// (RDS-003, RDS-004 and GEN-001 are ephemeral rules: ephemeralRules.)
	{"TAG-001", tFunction, func(t *testing.T, r map[string]any) { delete(defaultTagsOf(r), "CostCenter") }},
	{"TAG-002", tFunction, func(t *testing.T, r map[string]any) {
		inputsOf(r)["tags"] = map[string]any{"CostCenter": "someone-else"}
	}},
	{"NAME-001", tSecret, func(t *testing.T, r map[string]any) { inputsOf(r)["name"] = "db-credentials-prod" }},
	{"IAM-001", tRolePol, func(t *testing.T, r map[string]any) {
		editPolicy(t, inputsOf(r), "policy", func(p map[string]any) { statement(p, 0)["Action"] = "secretsmanager:*" })
	}},
	{"IAM-002", tRolePol, func(t *testing.T, r map[string]any) {
		editPolicy(t, inputsOf(r), "policy", func(p map[string]any) { statement(p, 0)["Resource"] = "*" })
	}},
	{"IAM-005", tRole, func(t *testing.T, r map[string]any) {
		editPolicy(t, inputsOf(r), "assumeRolePolicy", func(p map[string]any) { delete(statement(p, 0), "Condition") })
	}},
	{"KMS-001", tKey, func(t *testing.T, r map[string]any) { inputsOf(r)["enableKeyRotation"] = false }},
	{"KMS-002", tKey, func(t *testing.T, r map[string]any) {
		editPolicy(t, inputsOf(r), "policy", func(p map[string]any) {
			addStatement(p, map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": "rds.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*"})
		})
	}},
	{"RDS-001", tCluster, func(t *testing.T, r map[string]any) { inputsOf(r)["storageEncrypted"] = false }},
	{"RDS-002", tInstance, func(t *testing.T, r map[string]any) { inputsOf(r)["publiclyAccessible"] = true }},
	{"RDS-003", tCluster, func(t *testing.T, r map[string]any) { inputsOf(r)["skipFinalSnapshot"] = false }},
	{"RDS-004", tCluster, func(t *testing.T, r map[string]any) { inputsOf(r)["deletionProtection"] = true }},
	{"RDS-005", tParams, func(t *testing.T, r map[string]any) { inputsOf(r)["parameters"] = []any{} }},
	{"RDS-006", tInstance, func(t *testing.T, r map[string]any) { inputsOf(r)["clusterIdentifier"] = "another-dev" }},
	{"NET-004", tSubnet, func(t *testing.T, r map[string]any) { inputsOf(r)["mapPublicIpOnLaunch"] = true }},
	{"NET-005", tIngress, func(t *testing.T, r map[string]any) {
		delete(inputsOf(r), "referencedSecurityGroupId")
		inputsOf(r)["cidrIpv4"] = "0.0.0.0/0"
	}},
	{"NET-006", tEndpoint, func(t *testing.T, r map[string]any) { inputsOf(r)["privateDnsEnabled"] = false }},
	{"NET-007", tEndpoint, func(t *testing.T, r map[string]any) { delete(inputsOf(r), "policy") }},
	{"NET-008", tFlowLog, func(t *testing.T, r map[string]any) { delete(inputsOf(r), "vpcId") }},
	{"LOG-001", tLogGroup, func(t *testing.T, r map[string]any) { delete(inputsOf(r), "kmsKeyId") }},
	{"LOG-002", tLogGroup, func(t *testing.T, r map[string]any) { delete(inputsOf(r), "retentionInDays") }},
	{"LMB-001", tFunction, func(t *testing.T, r map[string]any) { inputsOf(r)["runtime"] = "go1.x" }},
	{"LMB-002", tFunction, func(t *testing.T, r map[string]any) { delete(inputsOf(r), "vpcConfig") }},
	{"LMB-004", tFunction, func(t *testing.T, r map[string]any) { inputsOf(r)["timeout"] = 900 }},
	{"LMB-005", tPerm, func(t *testing.T, r map[string]any) { delete(inputsOf(r), "sourceArn") }},
	{"SEC-001", tSecret, func(t *testing.T, r map[string]any) { delete(inputsOf(r), "kmsKeyId") }},
	{"SNS-001", tTopic, func(t *testing.T, r map[string]any) { delete(inputsOf(r), "kmsMasterKeyId") }},
	{"CTL-001", tTrail, func(t *testing.T, r map[string]any) { inputsOf(r)["enableLogFileValidation"] = false }},
	{"GEN-001", tSecret, func(t *testing.T, r map[string]any) { r["options"].(map[string]any)["protect"] = true }},
}

// scopedRealBreaks hold the breaks aimed at one layer or resource: the
// database layer's master-rotation is the first SecretRotation of the
// output, and it names no rotation function by design (a managed rotation).
var scopedRealBreaks = []realBreak{
	{rule: "SEC-004", typ: tRotation, layer: "secrets", edit: func(t *testing.T, r map[string]any) { delete(inputsOf(r), "rotationLambdaArn") }},
	{rule: "SEC-003", typ: tRotation, layer: "secrets", edit: func(t *testing.T, r map[string]any) {
		inputsOf(r)["rotationRules"] = map[string]any{"automaticallyAfterDays": 90}
	}},
	{rule: "SEC-003", typ: tRotation, layer: "database", name: "master-rotation", edit: func(t *testing.T, r map[string]any) {
		inputsOf(r)["rotationRules"] = map[string]any{"automaticallyAfterDays": 90}
	}},
	{rule: "SEC-005", typ: tSecretPol, layer: "secrets", name: "secret-policy-", edit: func(t *testing.T, r map[string]any) { inputsOf(r)["blockPublicPolicy"] = false }},
	{rule: "SEC-005", typ: tSecretPol, layer: "secrets", name: "secret-policy-", edit: func(t *testing.T, r map[string]any) {
		editPolicy(t, inputsOf(r), "policy", func(p map[string]any) {
			for _, st := range p["Statement"].([]any) {
				delete(st.(map[string]any)["Condition"].(map[string]any), "ArnNotEquals")
			}
		})
	}},
	{rule: "SEC-006", typ: tRotation, layer: "database", name: "master-rotation", edit: func(t *testing.T, r map[string]any) {
		inputsOf(r)["rotationLambdaArn"] = "arn:aws:lambda:us-east-1:123456789012:function:rotator-dev"
	}},
	{rule: "RDS-010", typ: tCluster, edit: func(t *testing.T, r map[string]any) { inputsOf(r)["masterPassword"] = "[secret]" }},
	{rule: "RDS-011", typ: tCluster, edit: func(t *testing.T, r map[string]any) { delete(inputsOf(r), "masterUserSecretKmsKeyId") }},
	{rule: "RDS-011", typ: tCluster, edit: func(t *testing.T, r map[string]any) { inputsOf(r)["manageMasterUserPassword"] = false }},
	{rule: "GEN-001", typ: tRotation, layer: "database", name: "master-rotation", class: ephemeral, edit: func(t *testing.T, r map[string]any) { r["options"].(map[string]any)["protect"] = true }},
	{rule: "GEN-001", typ: tRotation, layer: "secrets", class: ephemeral, edit: func(t *testing.T, r map[string]any) { r["options"].(map[string]any)["retainOnDelete"] = true }},
	// The production rules, on the production output (and silent on the
	// ephemeral one, where these are the settings).
	{rule: "PRD-001", typ: tCluster, class: production, edit: setOption("protect", false)},
	{rule: "PRD-001", typ: tInstance, class: production, edit: setOption("protect", false)},
	{rule: "PRD-001", typ: tKey, class: production, edit: setOption("protect", false)},
	{rule: "PRD-001", typ: tSecret, class: production, edit: setOption("protect", false)},
	{rule: "PRD-001", typ: tBucket, class: production, edit: setOption("protect", false)},
	{rule: "PRD-002", typ: tCluster, class: production, edit: setInput("deletionProtection", false)},
	{rule: "PRD-002", typ: tCluster, class: production, edit: setInput("skipFinalSnapshot", true)},
	{rule: "PRD-002", typ: tCluster, class: production, edit: setInput("finalSnapshotIdentifier", nil)},
	{rule: "PRD-003", typ: tSecret, class: production, edit: setInput("recoveryWindowInDays", 0)},
	{rule: "PRD-003", typ: tKey, class: production, edit: setInput("deletionWindowInDays", 7)},
	{rule: "PRD-004", typ: tLogGroup, class: production, edit: setInput("retentionInDays", 90)},
	{rule: "PRD-005", typ: tBucket, class: production, edit: setInput("forceDestroy", true)},
	{rule: "PRD-005", typ: tBucket, class: production, edit: setInput("objectLockEnabled", false)},
	{rule: "PRD-005", typ: tVersioning, class: production, edit: setInput("versioningConfiguration", map[string]any{"status": "Suspended"})},
	{rule: "PRD-005", typ: tObjectLock, class: production, edit: setInput("rule", map[string]any{"defaultRetention": map[string]any{"mode": "GOVERNANCE", "days": 30}})},
}

// setInput returns an edit that sets input key (nil: deletes it).
func setInput(key string, v any) func(t *testing.T, r map[string]any) {
	return func(t *testing.T, r map[string]any) {
		if v == nil {
			delete(inputsOf(r), key)
			return
		}
		inputsOf(r)[key] = v
	}
}

// setOption returns an edit that sets resource option key.
func setOption(key string, v any) func(t *testing.T, r map[string]any) {
	return func(t *testing.T, r map[string]any) { r["options"].(map[string]any)[key] = v }
}

// ephemeralRules are the catalog's ephemeral-class rules among realBreaks.
var ephemeralRules = map[string]bool{"GEN-001": true, "RDS-003": true, "RDS-004": true}

func inputsOf(r map[string]any) map[string]any { return r["inputs"].(map[string]any) }

// breakRealSynth applies each of realBreaks to a fresh copy of the layer that
// holds the type and expects its rule among the findings.
func breakRealSynth(t *testing.T, docs []Document, class string) {
	p := loadPack(t)
	all := scopedRealBreaks
	for _, b := range realBreaks {
		rb := realBreak{rule: b.rule, typ: b.typ, edit: b.edit}
		if ephemeralRules[b.rule] {
			rb.class = ephemeral
		}
		all = append(all, rb)
	}
	for _, b := range all {
		fires := b.class == "" || b.class == class
		t.Run(b.rule, func(t *testing.T) {
			for _, d := range docs {
				if b.layer != "" && d.Data["layer"] != b.layer {
					continue
				}
				cp := deepCopy(t, d.Data)
				for _, r := range cp["resources"].([]any) {
					m := r.(map[string]any)
					if m["type"] != b.typ || !strings.HasPrefix(m["name"].(string), b.name) {
						continue
					}
					b.edit(t, m)
					fs, err := p.Evaluate(context.Background(), cp)
					if err != nil {
						t.Fatal(err)
					}
					if got := ruleSet(fs)[b.rule]; got != fires {
						t.Fatalf("in the %s output, breaking %s %q fired %s: %v, want %v; findings: %+v", class, b.typ, m["name"], b.rule, got, fires, fs)
					}
					return
				}
			}
			if !fires {
				// The other class's resource (the production bucket
				// settings): nothing to break here.
				return
			}
			t.Fatalf("the %s synth output has no %s %q in layer %q", class, b.typ, b.name+"*", b.layer)
		})
	}
}

func deepCopy(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
