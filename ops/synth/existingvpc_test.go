package synth_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/ops/audit"
	"github.com/dbvault/dbvault/ops/internal/repotest"
	"github.com/dbvault/dbvault/ops/synth"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
)

// A vault placed in an existing network (the network layer's existingVpcId
// and existingSubnetIds, here the offline account's existing VPC) goes
// through synth and the policy gate like one with a network of its own.
// The findings are logged; the test fails only on a high one, so a rule
// that needs a change for existing networks shows here first.
func TestExistingNetworkSynthesizesAndPassesThePolicyGate(t *testing.T) {
	for _, endpoints := range []bool{true, false} {
		t.Run(map[bool]string{true: "with its endpoints", false: "without endpoints"}[endpoints], func(t *testing.T) {
			existingNetworkAudit(t, endpoints, false)
		})
	}
}

// A vault that also serves the team's existing Aurora cluster (the database
// layer's existingClusterIdentifier, the offline account's cluster in that
// VPC) creates no cluster and passes the gate with no finding at all.
func TestExistingClusterSynthesizesAndPassesThePolicyGate(t *testing.T) {
	docs, findings := existingNetworkAudit(t, false, true)
	for _, d := range docs {
		if d.Layer != "database" {
			continue
		}
		for _, r := range d.Resources {
			if strings.HasPrefix(r.Type, "aws:rds/") {
				t.Errorf("the database layer creates %s %s on an existing cluster", r.Type, r.Name)
			}
		}
		if d.Outputs["existingCluster"] != true || d.Outputs["clusterIdentifier"] != awsfake.ExistingClusterIdentifier {
			t.Errorf("database outputs existingCluster=%v clusterIdentifier=%v, want the existing cluster", d.Outputs["existingCluster"], d.Outputs["clusterIdentifier"])
		}
	}
	if len(findings) != 0 {
		t.Errorf("%d finding(s) with an existing cluster, want none", len(findings))
	}
}

func existingNetworkAudit(t *testing.T, endpoints, cluster bool) ([]synth.Document, []audit.Finding) {
	fake := awsfake.Default()
	subnets, err := json.Marshal(fake.ExistingSubnetIDs())
	if err != nil {
		t.Fatal(err)
	}
	opts := options(t)
	opts.Config[kit.NetworkProject+":existingVpcId"] = fake.ExistingVpcID()
	opts.Config[kit.NetworkProject+":existingSubnetIds"] = string(subnets)
	if endpoints {
		opts.Config[kit.NetworkProject+":existingSecretsManagerEndpointId"] = fake.ExistingEndpointID("secretsmanager")
		opts.Config[kit.NetworkProject+":existingKmsEndpointId"] = fake.ExistingEndpointID("kms")
	}
	if cluster {
		opts.Config[kit.DatabaseProject+":existingClusterIdentifier"] = awsfake.ExistingClusterIdentifier
	}
	docs, err := synth.Run(opts)
	if err != nil {
		t.Fatalf("synth with an existing network: %v", err)
	}
	dir := t.TempDir()
	if _, err := synth.Write(dir, docs); err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if d.Layer == "network" && d.Outputs["vpcId"] != fake.ExistingVpcID() {
			t.Errorf("network exports vpcId %v, want the existing VPC", d.Outputs["vpcId"])
		}
	}
	ctx := context.Background()
	pack, err := audit.Load(ctx, filepath.Join(repotest.Root(t), "policy"))
	if err != nil {
		t.Fatal(err)
	}
	findings, err := pack.EvaluateDir(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		t.Logf("finding: %+v", f)
	}
	t.Logf("%d finding(s)", len(findings))
	if n := audit.CountHigh(findings); n > 0 {
		t.Errorf("%d high finding(s) with an existing network", n)
	}
	return docs, findings
}
