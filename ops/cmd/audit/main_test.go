package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	policyDir = "../../../policy"
	compliant = "../../audit/testdata/compliant"
)

func runAudit(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"-policy", policyDir}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCompliantInputExitsZero(t *testing.T) {
	code, out, errOut := runAudit(t, "-input", compliant)
	if code != 0 || out != "" || !strings.Contains(errOut, "PASS") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// copyCompliant copies the compliant layers into a temporary folder and
// applies replace (old, new pairs) to file layer.
func copyCompliant(t *testing.T, layer string, replace ...string) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join(compliant, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("fixtures: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if filepath.Base(f) == layer+".json" {
			for i := 0; i+1 < len(replace); i += 2 {
				if !strings.Contains(s, replace[i]) {
					t.Fatalf("%s lacks %q", f, replace[i])
				}
				s = strings.ReplaceAll(s, replace[i], replace[i+1])
			}
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestHighFindingExitsOneWithTable(t *testing.T) {
	dir := copyCompliant(t, "database", `"deletionProtection": false`, `"deletionProtection": true`)
	code, out, errOut := runAudit(t, "-input", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, errOut)
	}
	for _, want := range []string{"RULE", "SEVERITY", "LAYER", "RESOURCE", "MESSAGE", "RDS-004", "high", "database", "cluster"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestMediumFindingOnlyExitsZero(t *testing.T) {
	// Without the flow log it owes the network layer's VPC (flow_log_layers),
	// the database layer breaks NET-008, the one advisory rule.
	dir := copyCompliant(t, "database", `"type": "aws:ec2/flowLog:FlowLog"`, `"type": "aws:ec2/trafficMirrorTarget:TrafficMirrorTarget"`)
	code, out, _ := runAudit(t, "-input", dir)
	if code != 0 || !strings.Contains(out, "NET-008") || !strings.Contains(out, "medium") {
		t.Fatalf("exit %d, want 0 with NET-008 listed:\n%s", code, out)
	}
}

func TestAuditInputEnvironment(t *testing.T) {
	t.Setenv("AUDIT_INPUT", copyCompliant(t, "kms", `"enableKeyRotation": true`, `"enableKeyRotation": false`))
	code, out, _ := runAudit(t)
	if code != 1 || !strings.Contains(out, "KMS-001") {
		t.Fatalf("exit %d with AUDIT_INPUT, want 1 and KMS-001:\n%s", code, out)
	}
}

func TestBadInputExitsTwo(t *testing.T) {
	notSynth := t.TempDir()
	if err := os.WriteFile(filepath.Join(notSynth, "x.json"), []byte(`{"hello": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{"empty folder": t.TempDir(), "not a synth file": notSynth, "missing folder": filepath.Join(t.TempDir(), "nope")} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runAudit(t, "-input", dir)
			if code != 2 || out != "" || errOut == "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2 with an error", code, out, errOut)
			}
		})
	}
}

func TestRulesListing(t *testing.T) {
	code, out, _ := runAudit(t, "-rules")
	if code != 0 || !strings.Contains(out, "| TAG-001 | high |") || !strings.Contains(out, "| NET-008 | medium |") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}
