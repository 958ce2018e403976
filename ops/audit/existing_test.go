package audit

import (
	"encoding/json"
	"testing"
)

// An existing network (the network layer's existingVpcId, existingSubnetIds
// and optional existingSecretsManagerEndpointId / existingKmsEndpointId):
// the layer creates no VPC and no subnet, only the security groups, the
// endpoints the config does not name, and an association of its endpoints
// group with each endpoint it does name (stacks/network/existing.go).

const (
	tSGAssoc = "aws:ec2/securityGroupAssociation:SecurityGroupAssociation"
	// The existing network of the derived fixtures.
	existingVPC      = "vpc-0e1f2a3b4c5d6e7f8"
	existingSubnetA  = "subnet-0a1b2c3d4e5f60718"
	existingSubnetB  = "subnet-0b1c2d3e4f5a60718"
	existingSMID     = "vpce-0a1b2c3d4e5f60718"
	existingKMSID    = "vpce-0b1c2d3e4f5a60718"
	endpointsGroupID = "sg-endpoints" // the compliant fixture's endpoints group
)

// cfgKey is the layer's project-scoped config key k.
func cfgKey(d doc, k string) string { return d["project"].(string) + ":" + k }

// existingNetwork turns the compliant network fixture into the layer as it
// is with an existing network: the VPC, its subnets and its route table go;
// the config names the VPC and its subnets; the groups (and the endpoints
// the layer still creates) are in that VPC; the outputs hand on the existing
// VPC and subnets and the endpoints group. With named, the config also names
// both endpoints: the layer creates neither and associates its endpoints
// group (from which the association's securityGroupId comes, so it is in its
// dependsOn) with each.
func existingNetwork(named bool) func(t *testing.T, d doc) {
	return func(t *testing.T, d doc) {
		d.remove(t, tVPC, "vpc")
		d.remove(t, tSubnet, "private-a")
		d.remove(t, tSubnet, "private-b")
		d.remove(t, "aws:ec2/routeTable:RouteTable", "private")
		d.remove(t, "aws:ec2/routeTableAssociation:RouteTableAssociation", "private-a")
		cfg := d["config"].(map[string]any)
		cfg[cfgKey(d, "existingVpcId")] = existingVPC
		cfg[cfgKey(d, "existingSubnetIds")] = `["` + existingSubnetA + `","` + existingSubnetB + `"]`
		out := d["outputs"].(map[string]any)
		out["vpcId"] = existingVPC
		out["privateSubnetIds"] = []any{existingSubnetA, existingSubnetB}
		out["endpointSecurityGroupId"] = endpointsGroupID
		for _, r := range d.resources() {
			m := r.(map[string]any)
			in := m["inputs"].(map[string]any)
			switch m["type"] {
			case tSG:
				in["vpcId"] = existingVPC
			case tEndpoint:
				in["vpcId"] = existingVPC
				in["subnetIds"] = []any{existingSubnetA, existingSubnetB}
			}
		}
		if !named {
			return
		}
		group := d.res(t, tSG, "endpoints")["urn"].(string)
		for svc, id := range map[string]string{"secretsmanager": existingSMID, "kms": existingKMSID} {
			d.remove(t, tEndpoint, svc)
			cfg[cfgKey(d, map[string]string{"secretsmanager": "existingSecretsManagerEndpointId", "kms": "existingKmsEndpointId"}[svc])] = id
			d.add(tSGAssoc, svc+"-endpoint-sg", map[string]any{"vpcEndpointId": id, "securityGroupId": endpointsGroupID, "replaceDefaultAssociation": false})
			d.options(t, tSGAssoc, svc+"-endpoint-sg")["dependsOn"] = []any{group}
		}
	}
}

// existingConfig sets (or, with nil, deletes) a config key of the existing
// network; a non-string value is stored as it is.
func existingConfig(k string, v any) func(t *testing.T, d doc) {
	return func(t *testing.T, d doc) {
		cfg := d["config"].(map[string]any)
		if v == nil {
			delete(cfg, cfgKey(d, k))
			return
		}
		cfg[cfgKey(d, k)] = v
	}
}

// subnetList is existingSubnetIds' JSON text for ids.
func subnetList(t *testing.T, ids ...string) string {
	b, err := json.Marshal(append([]string{}, ids...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noVPCResource fails a case whose fixture still holds a VPC or a subnet: an
// existing-network pass case must not pass on them.
func noVPCResource(t *testing.T, d doc) {
	if n := len(ofType(d, tVPC)) + len(ofType(d, tSubnet)); n != 0 {
		t.Fatalf("the existing-network fixture holds %d VPC or subnet resource(s): the case would prove nothing", n)
	}
}

var existingCases = []ruleCase{
	// NET-004 with an existing network: the subnets are the config's.
	{rule: "NET-004", name: "existing network: subnets named in config and handed on", layer: "network", mutate: all(existingNetwork(true), noVPCResource)},
	{rule: "NET-004", name: "existing network: existingSubnetIds as a list value", layer: "network", mutate: all(existingNetwork(false), noVPCResource, existingConfig("existingSubnetIds", []any{existingSubnetA, existingSubnetB}))},
	{rule: "NET-004", name: "existing network: existingSubnetIds unset", layer: "network", fail: true, mutate: all(existingNetwork(true), existingConfig("existingSubnetIds", nil),
		// No output subnets either, or those (listed nowhere now) would make
		// NET-004 fire without the check of the key itself.
		func(t *testing.T, d doc) { d["outputs"].(map[string]any)["privateSubnetIds"] = []any{} })},
	{rule: "NET-004", name: "existing network: existingSubnetIds not a JSON list", layer: "network", fail: true, mutate: all(existingNetwork(true), existingConfig("existingSubnetIds", existingSubnetA))},
	{rule: "NET-004", name: "existing network: existingSubnetIds empty", layer: "network", fail: true, mutate: all(existingNetwork(true), existingConfig("existingSubnetIds", "[]"),
		// As above: no output subnets.
		func(t *testing.T, d doc) { d["outputs"].(map[string]any)["privateSubnetIds"] = []any{} })},
	{rule: "NET-004", name: "existing network: an entry that is no subnet ID", layer: "network", fail: true, mutate: all(existingNetwork(true), func(t *testing.T, d doc) {
		d["config"].(map[string]any)[cfgKey(d, "existingSubnetIds")] = subnetList(t, existingSubnetA, existingSubnetB, "private-c")
	})},
	{rule: "NET-004", name: "existing network: the layer hands on a subnet the config does not list", layer: "network", fail: true, mutate: all(existingNetwork(true), func(t *testing.T, d doc) {
		d["outputs"].(map[string]any)["privateSubnetIds"] = []any{existingSubnetA, existingSubnetB, "subnet-0c1d2e3f4a5b60718"}
	})},
	{rule: "NET-004", name: "existing network: a created subnet with public IPs", layer: "network", fail: true, mutate: all(existingNetwork(true), func(t *testing.T, d doc) {
		d.add(tSubnet, "extra", map[string]any{"vpcId": existingVPC, "cidrBlock": "10.60.9.0/24", "mapPublicIpOnLaunch": true, "tags": tags("extra-dev")})
	})},
	// NET-006 with an existing network: each service's endpoint is created
	// with private DNS, or named in config with the endpoints group on it.
	{rule: "NET-006", name: "existing network: both endpoints named and associated", layer: "network", mutate: all(existingNetwork(true), noVPCResource)},
	{rule: "NET-006", name: "existing network: both endpoints created", layer: "network", mutate: all(existingNetwork(false), noVPCResource, expect(tEndpoint, "kms", "privateDnsEnabled", true))},
	{rule: "NET-006", name: "existing network: Secrets Manager created, KMS named", layer: "network", mutate: all(existingNetwork(false), func(t *testing.T, d doc) {
		d.remove(t, tEndpoint, "kms")
		d["config"].(map[string]any)[cfgKey(d, "existingKmsEndpointId")] = existingKMSID
		d.add(tSGAssoc, "kms-endpoint-sg", map[string]any{"vpcEndpointId": existingKMSID, "securityGroupId": endpointsGroupID, "replaceDefaultAssociation": false})
		d.options(t, tSGAssoc, "kms-endpoint-sg")["dependsOn"] = []any{d.res(t, tSG, "endpoints")["urn"]}
	})},
	{rule: "NET-006", name: "existing network: no KMS endpoint, created or named", layer: "network", fail: true, mutate: all(existingNetwork(false), func(t *testing.T, d doc) { d.remove(t, tEndpoint, "kms") })},
	{rule: "NET-006", name: "existing network: created Secrets Manager endpoint without private DNS", layer: "network", fail: true, mutate: all(existingNetwork(false), set(tEndpoint, "secretsmanager", "privateDnsEnabled", false))},
	// Without private DNS (the default in a VPC the vault does not own) a
	// created endpoint passes when the layer hands on its own DNS name.
	{rule: "NET-006", name: "existing network: created endpoints without private DNS, their names exported", layer: "network", mutate: all(existingNetwork(false), set(tEndpoint, "secretsmanager", "privateDnsEnabled", false), set(tEndpoint, "kms", "privateDnsEnabled", false), func(t *testing.T, d doc) {
		d["outputs"].(map[string]any)["secretsManagerEndpointUrl"] = "https://vpce-0a1b2c3d4e5f60718-abcd1234.secretsmanager.us-east-1.vpce.amazonaws.com"
		d["outputs"].(map[string]any)["kmsEndpointUrl"] = "[unknown]"
	})},
	{rule: "NET-006", name: "existing network: created endpoint without private DNS, regional name exported", layer: "network", fail: true, mutate: all(existingNetwork(false), set(tEndpoint, "secretsmanager", "privateDnsEnabled", false), func(t *testing.T, d doc) {
		d["outputs"].(map[string]any)["secretsManagerEndpointUrl"] = "https://secretsmanager.us-east-1.amazonaws.com"
	})},
	{rule: "NET-006", name: "existing network: KMS endpoint named but not associated", layer: "network", fail: true, mutate: all(existingNetwork(true), func(t *testing.T, d doc) { d.remove(t, tSGAssoc, "kms-endpoint-sg") })},
	{rule: "NET-006", name: "existing network: association with another endpoint than the named one", layer: "network", fail: true, mutate: all(existingNetwork(true), set(tSGAssoc, "secretsmanager-endpoint-sg", "vpcEndpointId", "vpce-0c1d2e3f4a5b60718"))},
	{rule: "NET-006", name: "existing network: association of the rotator's group, not the endpoints group", layer: "network", fail: true, mutate: all(existingNetwork(true), func(t *testing.T, d doc) {
		d.in(t, tSGAssoc, "kms-endpoint-sg")["securityGroupId"] = "sg-rotator"
		d.options(t, tSGAssoc, "kms-endpoint-sg")["dependsOn"] = []any{d.res(t, tSG, "rotator")["urn"]}
	})},
	{rule: "NET-006", name: "existing network: associated group is no group the layer creates", layer: "network", fail: true, mutate: all(existingNetwork(true), func(t *testing.T, d doc) {
		d.options(t, tSGAssoc, "kms-endpoint-sg")["dependsOn"] = []any{}
	})},
	{rule: "NET-006", name: "existing network: the layer hands on no endpoints group", layer: "network", fail: true, mutate: all(existingNetwork(true), func(t *testing.T, d doc) {
		delete(d["outputs"].(map[string]any), "endpointSecurityGroupId")
	})},
	{rule: "NET-006", name: "existing network: endpoint ID in config for the other service only", layer: "network", fail: true, mutate: all(existingNetwork(true), existingConfig("existingKmsEndpointId", nil))},
}

// An existing cluster (the database layer's existingClusterIdentifier):
// the layer creates no cluster, instance, parameter or subnet group, no log
// group of RDS's and no master rotation, only the rule admitting the
// rotator on the team's cluster group, the rotator's egress to it, and the
// flow log (stacks/database/existing.go).

const (
	teamClusterSG = "sg-0123456789abcdef0"
	rotatorSGID   = "sg-0r0r0r0r0r0r0r0r0"
)

func existingCluster(t *testing.T, d doc) {
	for _, r := range []struct{ typ, name string }{
		{"aws:rds/subnetGroup:SubnetGroup", "subnets"}, {tParams, "params"}, {tCluster, "cluster"},
		{tInstance, "instance-a"}, {tInstance, "instance-b"}, {tRotation, "master-rotation"},
		{tLogGroup, "audit-log"}, {tLogGroup, "error-log"}, {tLogGroup, "slowquery-log"},
	} {
		d.remove(t, r.typ, r.name)
	}
	d["config"].(map[string]any)[cfgKey(d, "existingClusterIdentifier")] = "team-aurora"
	d.add(tIngress, "cluster-from-rotator", map[string]any{"securityGroupId": teamClusterSG, "referencedSecurityGroupId": rotatorSGID, "ipProtocol": "tcp", "fromPort": 3306, "toPort": 3306, "description": "dbvault rotator"})
	d.add(tEgress, "rotator-to-cluster", map[string]any{"securityGroupId": rotatorSGID, "referencedSecurityGroupId": teamClusterSG, "ipProtocol": "tcp", "fromPort": 3306, "toPort": 3306, "description": "rotator to the existing cluster"})
}

func init() {
	existingCases = append(existingCases,
		ruleCase{rule: "RDS-012", name: "existing cluster: only the rotator's rules and the flow log", layer: "database", mutate: existingCluster},
		ruleCase{rule: "RDS-012", name: "existing cluster: a cluster created all the same", layer: "database", fail: true, mutate: all(existingCluster, func(t *testing.T, d doc) {
			d.add(tCluster, "cluster", map[string]any{"clusterIdentifier": "aurora-dev", "engine": "aurora-mysql", "storageEncrypted": true, "kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/db", "manageMasterUserPassword": true, "masterUserSecretKmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/secrets", "skipFinalSnapshot": true, "deletionProtection": false})
		}), also: []string{"RDS-005", "RDS-006", "RDS-007", "RDS-008", "RDS-009", "SEC-006"}},
		ruleCase{rule: "RDS-012", name: "existing cluster: RDS's log group created for it", layer: "database", fail: true, mutate: all(existingCluster, func(t *testing.T, d doc) {
			d.add(tLogGroup, "audit-log", map[string]any{"name": "/aws/rds/cluster/team-aurora/audit", "retentionInDays": 90, "kmsKeyId": logsKeyARN})
		}), also: []string{"NAME-001"}},
		ruleCase{rule: "RDS-012", name: "existing cluster: the team's master rotation changed", layer: "database", fail: true, mutate: all(existingCluster, func(t *testing.T, d doc) {
			d.add(tRotation, "master-rotation", map[string]any{"secretId": masterSecretARN, "rotationRules": map[string]any{"automaticallyAfterDays": 7}})
		}), also: []string{"SEC-004"}},
		ruleCase{rule: "RDS-012", name: "existing cluster: a rule open to a CIDR", layer: "database", fail: true, mutate: all(existingCluster, set(tIngress, "cluster-from-rotator", "cidrIpv4", "10.0.0.0/8"))},
		ruleCase{rule: "RDS-012", name: "existing cluster: a rule over a port range", layer: "database", fail: true, mutate: all(existingCluster, set(tIngress, "cluster-from-rotator", "toPort", 3310))},
		ruleCase{rule: "RDS-012", name: "existing cluster: a rule without a peer group", layer: "database", fail: true, mutate: all(existingCluster, set(tEgress, "rotator-to-cluster", "referencedSecurityGroupId", nil))},
		ruleCase{rule: "RDS-012", name: "existing cluster: a legacy securityGroupRule from a CIDR", layer: "database", fail: true, mutate: all(existingCluster, func(t *testing.T, d doc) {
			d.add("aws:ec2/securityGroupRule:SecurityGroupRule", "cluster-from-office", map[string]any{"type": "ingress", "securityGroupId": "sg-0team", "protocol": "tcp",
				"fromPort": 0, "toPort": 65535, "cidrBlocks": []any{"10.0.0.0/8"}})
		})},
	)
}
