package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/ops/internal/repotest"
	"github.com/dbvault/dbvault/ops/synth"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
	"github.com/dbvault/dbvault/stacks/kit/mock"
)

// -existing chooses the offline account's existing network, and with
// cluster its existing cluster, in the synthesized region; anything else is
// refused. (ops/synth's existing-network tests synthesize and audit these
// configurations.)
func TestExistingConfig(t *testing.T) {
	fake := awsfake.Env{Account: awsfake.DefaultAccount, Region: "eu-west-1"}
	for _, c := range []struct {
		existing string
		keys     int
		cluster  bool
	}{{"none", 0, false}, {"network", 2, false}, {"cluster", 3, true}} {
		cfg := map[string]string{}
		if err := existingConfig(cfg, c.existing, "eu-west-1"); err != nil {
			t.Fatalf("%s: %v", c.existing, err)
		}
		if len(cfg) != c.keys {
			t.Errorf("%s: %d keys %v, want %d", c.existing, len(cfg), cfg, c.keys)
		}
		if c.keys > 0 && cfg[kit.NetworkProject+":existingVpcId"] != fake.ExistingVpcID() {
			t.Errorf("%s: existingVpcId %q, want the region's %s", c.existing, cfg[kit.NetworkProject+":existingVpcId"], fake.ExistingVpcID())
		}
		if got := cfg[kit.DatabaseProject+":existingClusterIdentifier"]; (got == awsfake.ExistingClusterIdentifier) != c.cluster {
			t.Errorf("%s: existingClusterIdentifier %q", c.existing, got)
		}
	}
	if err := existingConfig(map[string]string{}, "vpc", "us-east-1"); err == nil || !strings.Contains(err.Error(), "expected none, network or cluster") {
		t.Errorf("-existing vpc: %v", err)
	}
}

// The stack files' values win over -class and -existing left at their
// defaults; given explicitly against a file that says otherwise, they are
// refused naming the key.
func TestMerge(t *testing.T) {
	files := synth.StackFiles{Config: map[string]string{kit.DatabaseProject + ":environmentClass": kit.Production}}
	cfg, err := merge(files, kit.Ephemeral, false, "none", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if cfg[kit.DatabaseProject+":environmentClass"] != kit.Production || cfg[kit.NetworkProject+":environmentClass"] != kit.Ephemeral {
		t.Errorf("the file's class must win over the default one, the default fill the rest: %v", cfg)
	}
	if _, err := merge(files, kit.Ephemeral, true, "none", "us-east-1"); err == nil || !strings.Contains(err.Error(), "the database layer's stack file sets vault-database:environmentClass") {
		t.Errorf("ENVIRONMENT_CLASS=ephemeral against a production file: %v", err)
	}
	if cfg, err := merge(files, kit.Production, true, "none", "us-east-1"); err != nil || cfg[kit.KMSProject+":environmentClass"] != kit.Production {
		t.Errorf("an explicit class the file agrees with: %v %v", cfg, err)
	}
	vpc := synth.StackFiles{Config: map[string]string{kit.NetworkProject + ":existingVpcId": "vpc-0123456789abcdef0"}}
	if _, err := merge(vpc, kit.Ephemeral, false, "network", "us-east-1"); err == nil || !strings.Contains(err.Error(), "existingVpcId") {
		t.Errorf("-existing network against a file's own VPC: %v", err)
	}
}

// The command reads the stack files of -env: a vpcCidr set in the network
// layer's file is the synthesized VPC's, and -stack-files=false ignores
// the files.
func TestRunReadsTheStackFiles(t *testing.T) {
	root := repotest.LayerRoot(t)
	files := map[string]string{
		"network": "config:\n  vault-network:environmentSuffix: conf\n  vault-network:vpcCidr: 10.50.0.0/16\n",
		"secrets": "config:\n  vault-secrets:rotatorZip: " + mock.RotatorZip(t) + "\n",
	}
	for layer, f := range files {
		if err := os.WriteFile(filepath.Join(root, "stacks", layer, "Pulumi.conf.yaml"), []byte(f), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []string{"ENV", "AWS_REGION", "ENVIRONMENT_CLASS", "EXISTING"} {
		t.Setenv(v, "")
	}
	t.Chdir(root)
	vpcCidr := func(args ...string) any {
		t.Helper()
		out := t.TempDir()
		if err := run(append([]string{"-env", "conf", "-out", out}, args...)); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(out, "network.json"))
		if err != nil {
			t.Fatal(err)
		}
		var doc synth.Document
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		for _, r := range doc.Resources {
			if r.Type == "aws:ec2/vpc:Vpc" {
				return r.Inputs["cidrBlock"]
			}
		}
		t.Fatal("no VPC synthesized")
		return nil
	}
	if got := vpcCidr(); got != "10.50.0.0/16" {
		t.Errorf("the VPC's cidrBlock is %v, want the stack file's 10.50.0.0/16", got)
	}
	// Without the files the secrets layer lacks the rotatorZip its file
	// sets (this root has no rotator module to build one from).
	if err := run([]string{"-env", "conf", "-out", t.TempDir(), "-stack-files=false"}); err == nil || !strings.Contains(err.Error(), "rotatorZip") {
		t.Errorf("-stack-files=false: %v, want the missing rotatorZip the file would have set", err)
	}
}
