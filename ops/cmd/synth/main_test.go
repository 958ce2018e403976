package main

import (
	"strings"
	"testing"

	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
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
