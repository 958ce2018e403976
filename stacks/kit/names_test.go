package kit

import (
	"strings"
	"testing"
)

// The default vault's names are today's, whichever default component name
// asks for them: existing environments see no change.
func TestDefaultComponentsKeepTodaysNames(t *testing.T) {
	for _, c := range DefaultComponents {
		n, err := NewNames(c, "dev")
		if err != nil {
			t.Fatal(err)
		}
		for got, want := range map[string]string{
			n.Logical("vpc"):                               "vpc",
			n.Name("rotator"):                              "rotator-dev",
			n.RotatorName():                                "rotator-dev",
			n.RotatorLogGroup():                            "/aws/lambda/rotator-dev",
			n.RotatorRoleName("us-east-1"):                 "rotator-role-us-east-1-dev",
			n.Global("vpc-flow-logs-role", "eu-west-1"):    "vpc-flow-logs-role-eu-west-1-dev",
			n.TrailName():                                  "trail-dev",
			n.TrailLogGroup():                              "/aws/cloudtrail/trail-dev",
			n.TrailBucketName("us-east-1", "123456789012"): "cloudtrail-us-east-1-dev-123456789012",
			n.FlowLogGroup():                               "vpc-flow-logs-dev",
			n.ClusterIdentifier():                          "aurora-cluster-dev",
			n.AlertsTopicName():                            "vault-alerts-dev",
			n.AppSecretName("app"):                         "db-credentials-app-dev",
			n.AppSecretPattern():                           "db-credentials-*-dev",
			GlobalName("rotator-role", "us-east-1", "dev"): "rotator-role-us-east-1-dev",
		} {
			if got != want {
				t.Errorf("component %s: %q, want %q", c, got, want)
			}
		}
		if got := strings.Join(n.LogGroups(), ","); got != "/aws/lambda/rotator-dev,/aws/cloudtrail/trail-dev,vpc-flow-logs-dev,/aws/rds/cluster/aurora-cluster-dev/audit,/aws/rds/cluster/aurora-cluster-dev/error,/aws/rds/cluster/aurora-cluster-dev/slowquery" {
			t.Errorf("component %s: log groups %s", c, got)
		}
	}
}

// Another component name prefixes every physical and logical name.
func TestOtherComponentNamePrefixes(t *testing.T) {
	n, err := NewNames("orders", "dev")
	if err != nil {
		t.Fatal(err)
	}
	for got, want := range map[string]string{
		n.Logical("vpc"):                               "orders-vpc",
		n.RotatorName():                                "orders-rotator-dev",
		n.RotatorRoleName("us-east-1"):                 "orders-rotator-role-us-east-1-dev",
		n.ClusterIdentifier():                          "orders-aurora-cluster-dev",
		n.AppSecretName("app"):                         "orders-db-credentials-app-dev",
		n.AppSecretPattern():                           "orders-db-credentials-*-dev",
		n.TrailBucketName("us-east-1", "123456789012"): "orders-cloudtrail-us-east-1-dev-123456789012",
	} {
		if got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
}

// The longest vault name, suffix and region keep every fitted name within
// its limit, ending in -<suffix> (or -<suffix>-<account>), and distinct.
func TestLongNamesAreFittedDeterministically(t *testing.T) {
	suffix := strings.Repeat("s", MaxSuffixLen)
	a, _ := NewNames(strings.Repeat("a", MaxVaultNameLen), suffix)
	b, _ := NewNames(strings.Repeat("a", MaxVaultNameLen-1)+"b", suffix)
	for _, n := range []Names{a, b} {
		role := n.Global("vpc-flow-logs-role", "ap-southeast-2")
		if len(role) > MaxRoleNameLen || !strings.HasSuffix(role, "-"+suffix) {
			t.Errorf("role %s: %d characters", role, len(role))
		}
		bucket := n.TrailBucketName("ap-southeast-2", "123456789012")
		if len(bucket) > MaxBucketNameLen || !strings.HasSuffix(bucket, "-"+suffix+"-123456789012") {
			t.Errorf("bucket %s: %d characters", bucket, len(bucket))
		}
		if n.Global("rotator-role", "ap-southeast-2") != n.RotatorRoleName("ap-southeast-2") {
			t.Error("not deterministic")
		}
		if id := n.Name("aurora-cluster-final"); len(id) > 63 {
			t.Errorf("%s: %d characters; RDS allows 63", id, len(id))
		}
	}
	if a.RotatorRoleName("ap-southeast-2") == b.RotatorRoleName("ap-southeast-2") {
		t.Error("two vaults' fitted role names collide")
	}
}

func TestBadComponentNamesAreRefused(t *testing.T) {
	for _, bad := range []string{"", "Orders", "orders_1", "-orders", "orders-", "or--ders", "1orders", "sg", "sg-orders", "sthree", "sthree-x", "amzn-s3-demo", strings.Repeat("a", MaxVaultNameLen+1)} {
		if _, err := NewNames(bad, "dev"); err == nil || !strings.Contains(err.Error(), "component name") {
			t.Errorf("NewNames(%q) = %v, want the component-name error", bad, err)
		}
	}
	if _, err := NewNames("orders", "Dev"); err == nil {
		t.Error("a bad suffix passed")
	}
}
