package audit

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = "../.."

// TestProjectSynthPasses synthesizes the project's four layers with its own
// synth command (`go run ./ops/cmd/synth -out <temp>`) and requires the policy
// pack to find no high-severity violation in them: the project passes its own
// audit. The medium findings are logged for the reader.
func TestProjectSynthPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("synthesizes every layer (about a minute cold); not in -short")
	}
	out := t.TempDir()
	cmd := exec.Command("go", "run", "./ops/cmd/synth", "-out", out, "-env", "dev")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "ENV=", "AWS_REGION=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("synth failed (it needs the rotator zip: go run mage.go rotator): %v\n%s", err, b)
	}
	files, err := filepath.Glob(filepath.Join(out, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var layers []string
	for _, f := range files {
		layers = append(layers, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	if strings.Join(layers, ",") != "database,kms,network,secrets" {
		t.Fatalf("synth wrote %v, want the four layers", layers)
	}
	// The rules must have something to check: a pass over a graph without
	// these resources would prove nothing.
	docs, err := ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, d := range docs {
		for _, r := range d.Data["resources"].([]any) {
			seen[r.(map[string]any)["type"].(string)] = true
		}
	}
	for _, typ := range []string{tVPC, tFlowLog, tSubnet, tEndpoint, tIngress, tKey, tCluster, tInstance, tParams, tLogGroup, tSecret, tRotation, tSecretPol, tRole, tRolePol, tFunction, tPerm, tTopic, tTrail} {
		if !seen[typ] {
			t.Errorf("synth output has no %s for the rules to check", typ)
		}
	}
	fs, err := loadPack(t).EvaluateDir(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("breaking a rule in the real output fails it", func(t *testing.T) { breakRealSynth(t, docs) })
	for _, f := range fs {
		if f.Severity == High {
			t.Errorf("the project fails its own audit: %s %s/%s: %s", f.Rule, f.Layer, f.Resource, f.Message)
		} else {
			t.Logf("advisory: %s %s/%s: %s", f.Rule, f.Layer, f.Resource, f.Message)
		}
	}
}

// realBreak breaks one rule on the first resource of a type in the project's
// real synth output (whose names differ from the fixtures'); when layer or
// name (a prefix of the logical name) is set, on the first such resource of
// that layer and name.
type realBreak struct {
	rule, typ   string
	edit        func(t *testing.T, r map[string]any)
	layer, name string
}

// realBreaks hold the breaks on the first resource of a type anywhere.
var realBreaks = []struct {
	rule, typ string
	edit      func(t *testing.T, r map[string]any)
}{
	{"TAG-001", tFunction, func(t *testing.T, r map[string]any) { delete(inputsOf(r)["tags"].(map[string]any), "CostCenter") }},
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
	{rule: "GEN-001", typ: tRotation, layer: "database", name: "master-rotation", edit: func(t *testing.T, r map[string]any) { r["options"].(map[string]any)["protect"] = true }},
	{rule: "GEN-001", typ: tRotation, layer: "secrets", edit: func(t *testing.T, r map[string]any) { r["options"].(map[string]any)["retainOnDelete"] = true }},
}

func inputsOf(r map[string]any) map[string]any { return r["inputs"].(map[string]any) }

// breakRealSynth applies each of realBreaks to a fresh copy of the layer that
// holds the type and expects its rule among the findings.
func breakRealSynth(t *testing.T, docs []Document) {
	p := loadPack(t)
	all := scopedRealBreaks
	for _, b := range realBreaks {
		all = append(all, realBreak{rule: b.rule, typ: b.typ, edit: b.edit})
	}
	for _, b := range all {
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
					if !ruleSet(fs)[b.rule] {
						t.Fatalf("breaking %s %q did not fire %s; findings: %+v", b.typ, m["name"], b.rule, fs)
					}
					return
				}
			}
			t.Fatalf("the synth output has no %s %q in layer %q", b.typ, b.name+"*", b.layer)
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
