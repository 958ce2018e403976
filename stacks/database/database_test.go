package database_test

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/dbvault/dbvault/stacks/database"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/kittest"
	"github.com/dbvault/dbvault/stacks/kit/mock"
)

const (
	suffix = "dev"

	dbKeyArn      = "arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111"
	secretsKeyArn = "arn:aws:kms:us-east-1:123456789012:key/33333333-3333-3333-3333-333333333333"
	logsKeyArn    = "arn:aws:kms:us-east-1:123456789012:key/22222222-2222-2222-2222-222222222222"
	dbSG          = "sg-0db0db0db0db0db0d"
	vpcID         = "vpc-0123456789abcdef0"
	account       = "123456789012"
	region        = "us-east-1"
)

var (
	subnets = []any{"subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb", "subnet-0cccccccccccccccc"}
	zones   = []any{"us-east-1a", "us-east-1b", "us-east-1c"}
)

func networkOutputs() map[string]mock.Output {
	return map[string]mock.Output{
		"vpcId":                   {Value: vpcID},
		"vpcCidr":                 {Value: "10.20.0.0/16"},
		"privateSubnetIds":        {Value: subnets},
		"availabilityZones":       {Value: zones},
		"rotatorSecurityGroupId":  {Value: "sg-0r0r0r0r0r0r0r0r0"},
		"databaseSecurityGroupId": {Value: dbSG},
		"endpointSecurityGroupId": {Value: "sg-0e0e0e0e0e0e0e0e0"},
	}
}

// deployer is the role of the offline deploying session (awsfake).
const deployer = "arn:aws:iam::123456789012:role/vault-deployer"

func kmsOutputs() map[string]mock.Output {
	return map[string]mock.Output{
		"databaseKeyArn": {Value: dbKeyArn},
		"logsKeyArn":     {Value: logsKeyArn},
		"secretsKeyArn":  {Value: secretsKeyArn},
		"administrators": {Value: []any{deployer}},
	}
}

// refs are the earlier layers' stacks, as the layer references them by
// default.
func refs() map[string]map[string]mock.Output {
	return map[string]map[string]mock.Output{
		"organization/vault-network/dev": networkOutputs(),
		"organization/vault-kms/dev":     kmsOutputs(),
	}
}

// baseConfig is a valid stack configuration; tests change one key at a time.
func baseConfig() map[string]string { return kittest.Config(kit.DatabaseProject, nil) }

// runWith runs the layer with config, its references answered by stacks
// (nil: refs).
func runWith(t *testing.T, config map[string]string, stacks map[string]map[string]mock.Output) (mock.Result, error) {
	t.Helper()
	if stacks == nil {
		stacks = refs()
	}
	return mock.Run(database.Layer, mock.RunOptions{Stack: "dev", Config: config, StackOutputs: stacks})
}

func deploy(t *testing.T) mock.Result {
	t.Helper()
	return kittest.Run(t, database.Layer, mock.RunOptions{Stack: "dev", Config: baseConfig(), StackOutputs: refs()})
}

// The readers of what a run registered (kittest), by the short names the
// tests use on nearly every line.
var (
	one   = kittest.One
	plain = kittest.Plain
	str   = kittest.Str
	strs  = kittest.Strs
)

func boolean(t *testing.T, r mock.Resource, key string) bool {
	t.Helper()
	v := kittest.Get(r, key)
	if !v.IsBool() {
		t.Fatalf("%s %s: %s is not set (%v)", r.Type, r.Name, key, v)
	}
	return v.BoolValue()
}

func number(t *testing.T, r mock.Resource, key string) int {
	t.Helper()
	v := kittest.Get(r, key)
	if !v.IsNumber() {
		t.Fatalf("%s %s: %s is not set (%v)", r.Type, r.Name, key, v)
	}
	return int(v.NumberValue())
}

func TestComponentAndResourceCount(t *testing.T) {
	counts := kittest.Children(t, deploy(t), "dbvault:database:Database")
	want := map[string]int{
		"aws:cloudwatch/logGroup:LogGroup":                    4,
		"aws:iam/role:Role":                                   1,
		"aws:iam/rolePolicy:RolePolicy":                       1,
		"aws:ec2/flowLog:FlowLog":                             1,
		"aws:rds/subnetGroup:SubnetGroup":                     1,
		"aws:rds/clusterParameterGroup:ClusterParameterGroup": 1,
		"aws:rds/cluster:Cluster":                             1,
		"aws:rds/clusterInstance:ClusterInstance":             2,
		"aws:secretsmanager/secretRotation:SecretRotation":    1,
	}
	if !maps.Equal(counts, want) {
		t.Errorf("resources = %v, want %v", counts, want)
	}
}

func TestEveryResourceTaggedAndNamedWithSuffix(t *testing.T) {
	res := deploy(t)
	nameKey := map[string]string{
		"aws:cloudwatch/logGroup:LogGroup":                    "name",
		"aws:iam/role:Role":                                   "name",
		"aws:iam/rolePolicy:RolePolicy":                       "name",
		"aws:ec2/flowLog:FlowLog":                             "tags.Name",
		"aws:rds/subnetGroup:SubnetGroup":                     "name",
		"aws:rds/clusterParameterGroup:ClusterParameterGroup": "name",
		"aws:rds/cluster:Cluster":                             "clusterIdentifier",
		"aws:rds/clusterInstance:ClusterInstance":             "identifier",
	}
	for _, p := range res.TaggingProblems() {
		t.Error(p)
	}
	for _, r := range res.Resources {
		if !r.Custom {
			continue
		}
		tags := r.Tags()
		switch {
		case r.Type == "aws:iam/rolePolicy:RolePolicy":
			// An inline policy has no tags in AWS; its role carries them.
		case r.Type == "aws:secretsmanager/secretRotation:SecretRotation":
			// A rotation schedule is a setting of RDS's secret; it has
			// neither tags nor a name of its own.
			if r.OwnTags() != nil {
				t.Errorf("%s has tags", r.Type)
			}
			continue
		default:
			kittest.CheckTags(t, r, kit.Tags{Environment: suffix, CostCenter: kit.DefaultCostCenter, Compliance: kit.DefaultCompliance})
		}
		key, ok := nameKey[r.Type]
		if !ok {
			t.Errorf("%s %s: no naming rule in this test", r.Type, r.Name)
			continue
		}
		var name string
		if k, found := strings.CutPrefix(key, "tags."); found {
			name = tags[k]
		} else {
			name = str(r, key)
		}
		if r.Type == "aws:cloudwatch/logGroup:LogGroup" && r.Name != "vpc-flow-logs" {
			// The documented exception: RDS fixes the name; the suffix sits
			// in the cluster identifier.
			if !strings.HasPrefix(name, "/aws/rds/cluster/aurora-cluster-"+suffix+"/") {
				t.Errorf("log group %s: name %q", r.Name, name)
			}
			continue
		}
		if !strings.HasSuffix(name, "-"+suffix) {
			t.Errorf("%s %s: physical name %q does not end in -%s", r.Type, r.Name, name, suffix)
		}
	}
}

func TestLogGroupsEncryptedWithRetentionAndCreatedBeforeCluster(t *testing.T) {
	res := deploy(t)
	cluster := one(t, res, "aws:rds/cluster:Cluster")
	var names []string
	for _, lg := range res.ByType("aws:cloudwatch/logGroup:LogGroup") {
		if lg.Name == "vpc-flow-logs" {
			continue // not RDS's; TestVPCFlowLog covers it
		}
		names = append(names, str(lg, "name"))
		if got := str(lg, "kmsKeyId"); got != logsKeyArn {
			t.Errorf("log group %s: kmsKeyId %q, want the logs key", lg.Name, got)
		}
		if got := number(t, lg, "retentionInDays"); got != database.DefaultLogRetentionDays {
			t.Errorf("log group %s: retention %d", lg.Name, got)
		}
		if !slices.Contains(cluster.Options.DependsOn, lg.URN) {
			t.Errorf("cluster does not depend on log group %s", lg.URN)
		}
	}
	slices.Sort(names)
	want := []string{
		"/aws/rds/cluster/aurora-cluster-dev/audit",
		"/aws/rds/cluster/aurora-cluster-dev/error",
		"/aws/rds/cluster/aurora-cluster-dev/slowquery",
	}
	if !slices.Equal(names, want) {
		t.Errorf("log groups = %v, want %v", names, want)
	}
	exports := strs(cluster, "enabledCloudwatchLogsExports")
	slices.Sort(exports)
	if !slices.Equal(exports, []string{"audit", "error", "slowquery"}) {
		t.Errorf("enabledCloudwatchLogsExports = %v", exports)
	}
}

func TestVPCFlowLog(t *testing.T) {
	res := deploy(t)
	group := kittest.Named(t, res, "aws:cloudwatch/logGroup:LogGroup", "vpc-flow-logs")
	groupArn := "arn:aws:logs:" + region + ":" + account + ":log-group:vpc-flow-logs-dev"
	if got := str(group, "name"); got != "vpc-flow-logs-dev" {
		t.Errorf("flow log group name %q, want vpc-flow-logs-dev", got)
	}
	// The logs key admits CloudWatch Logs only for the vault's own groups,
	// by exact ARN (kms.LogGroupArns, built from kit.Names.LogGroups); a
	// group outside that list could not be created encrypted.
	if groups := kit.DefaultNames(suffix).LogGroups(); !slices.Contains(groups, str(group, "name")) {
		t.Errorf("flow log group %s is not among the groups the logs key admits %v", str(group, "name"), groups)
	}
	if got := str(group, "kmsKeyId"); got != logsKeyArn {
		t.Errorf("flow log group kmsKeyId %q, want the logs key", got)
	}
	if got := number(t, group, "retentionInDays"); got != database.DefaultLogRetentionDays {
		t.Errorf("flow log group retention %d, want %d", got, database.DefaultLogRetentionDays)
	}

	role := one(t, res, "aws:iam/role:Role")
	if got := str(role, "name"); got != "vpc-flow-logs-role-us-east-1-dev" {
		t.Errorf("role name %q", got)
	}
	trust := kittest.Statements(t, str(role, "assumeRolePolicy"))
	if len(trust) != 1 {
		t.Fatalf("trust policy has %d statements, want 1: %+v", len(trust), trust)
	}
	st := trust[0]
	if st.Effect != "Allow" || !slices.Equal(kittest.List(st.Action), []string{"sts:AssumeRole"}) {
		t.Errorf("trust statement %+v, want Allow sts:AssumeRole", st)
	}
	if p, _ := st.Principal.(map[string]any); len(p) != 1 || p["Service"] != "vpc-flow-logs.amazonaws.com" {
		t.Errorf("trust principal %v, want the flow logs service only", st.Principal)
	}
	wantCond := map[string]map[string]any{
		"StringEquals": {"aws:SourceAccount": account},
		"ArnLike":      {"aws:SourceArn": "arn:aws:ec2:" + region + ":" + account + ":vpc-flow-log/*"},
	}
	if fmt.Sprint(st.Condition) != fmt.Sprint(wantCond) {
		t.Errorf("trust condition %v, want %v", st.Condition, wantCond)
	}

	rp := one(t, res, "aws:iam/rolePolicy:RolePolicy")
	if got := str(rp, "name"); got != "vpc-flow-logs-policy-dev" {
		t.Errorf("role policy name %q", got)
	}
	if got := str(rp, "role"); got != "vpc-flow-logs-role-us-east-1-dev" {
		t.Errorf("role policy attached to %q", got)
	}
	perms := kittest.Statements(t, str(rp, "policy"))
	if len(perms) != 2 {
		t.Fatalf("role policy has %d statements, want 2: %+v", len(perms), perms)
	}
	// DescribeLogGroups lists groups: on one group's ARN it grants
	// nothing, on "*" it would reach every account's and region's; it gets
	// this account's and region's log groups.
	wantList := "arn:aws:logs:" + region + ":" + account + ":log-group:*"
	if l := perms[1]; l.Sid != "ListLogGroupsOfThisAccountAndRegion" || !slices.Equal(kittest.List(l.Action), []string{"logs:DescribeLogGroups"}) || !slices.Equal(kittest.List(l.Resource), []string{wantList}) {
		t.Errorf("list statement %+v, want logs:DescribeLogGroups on %s", l, wantList)
	}
	p := perms[0]
	wantActions := []string{"logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"}
	gotActions := slices.Sorted(slices.Values(kittest.List(p.Action)))
	if p.Effect != "Allow" || !slices.Equal(gotActions, wantActions) {
		t.Errorf("role policy statement %+v, want Allow %v", p, wantActions)
	}
	if want := []string{groupArn, groupArn + ":*"}; !slices.Equal(kittest.List(p.Resource), want) {
		t.Errorf("role policy resources %v, want only the flow log group %v", p.Resource, want)
	}

	fl := one(t, res, "aws:ec2/flowLog:FlowLog")
	checks := map[string]string{
		"vpcId":              vpcID,
		"trafficType":        "ALL",
		"logDestinationType": "cloud-watch-logs",
		"logDestination":     groupArn,
		"iamRoleArn":         "arn:aws:iam::" + account + ":role/vpc-flow-logs-role-us-east-1-dev",
	}
	for k, want := range checks {
		if got := str(fl, k); got != want {
			t.Errorf("flow log %s = %q, want %q", k, got, want)
		}
	}
	if got := number(t, fl, "maxAggregationInterval"); got != 600 && got != 60 {
		t.Errorf("maxAggregationInterval %d, want 600 or 60", got)
	}
	if got := plain(fl.Inputs["tags"]).ObjectValue()["Name"]; !got.IsString() || got.StringValue() != "vpc-flow-log-dev" {
		t.Errorf("flow log Name tag %v, want vpc-flow-log-dev", got)
	}
	if !slices.Contains(fl.Options.DependsOn, rp.URN) {
		t.Errorf("flow log does not depend on its role's policy: %v", fl.Options.DependsOn)
	}
}

func TestClusterSettings(t *testing.T) {
	res := deploy(t)
	c := one(t, res, "aws:rds/cluster:Cluster")
	checks := map[string]string{
		"clusterIdentifier":           "aurora-cluster-dev",
		"engine":                      "aurora-mysql",
		"engineVersion":               database.DefaultEngineVersion,
		"kmsKeyId":                    dbKeyArn,
		"masterUsername":              database.DefaultMasterUsername,
		"databaseName":                database.DefaultDBName,
		"dbSubnetGroupName":           "db-subnets-dev",
		"dbClusterParameterGroupName": "aurora-mysql8-params-dev",
	}
	for k, want := range checks {
		if got := str(c, k); got != want {
			t.Errorf("cluster %s = %q, want %q", k, got, want)
		}
	}
	if !boolean(t, c, "storageEncrypted") {
		t.Error("storage not encrypted")
	}
	if !boolean(t, c, "skipFinalSnapshot") {
		t.Error("skipFinalSnapshot is false: destroy would leave a snapshot behind")
	}
	if boolean(t, c, "deletionProtection") {
		t.Error("deletion protection on: destroy would fail")
	}
	if got := number(t, c, "backupRetentionPeriod"); got != 7 {
		t.Errorf("backupRetentionPeriod = %d, want 7", got)
	}
	if got := strs(c, "vpcSecurityGroupIds"); !slices.Equal(got, []string{dbSG}) {
		t.Errorf("vpcSecurityGroupIds = %v, want the database security group only", got)
	}
	// RDS owns the master password: the program never has one.
	if !boolean(t, c, "manageMasterUserPassword") {
		t.Error("manageMasterUserPassword is off: the master password would pass through Pulumi")
	}
	if got := str(c, "masterUserSecretKmsKeyId"); got != secretsKeyArn {
		t.Errorf("masterUserSecretKmsKeyId = %q, want the secrets key", got)
	}
	for _, k := range []string{"masterPassword", "masterPasswordWo"} {
		if _, ok := c.Inputs[resource.PropertyKey(k)]; ok {
			t.Errorf("the cluster has a %s input", k)
		}
	}
	if got := c.Options.IgnoreChanges; !slices.Equal(got, []string{"engineVersion", "finalSnapshotIdentifier"}) {
		t.Errorf("ignoreChanges = %v, want only engineVersion and finalSnapshotIdentifier (no password to protect)", got)
	}
	sg := one(t, res, "aws:rds/subnetGroup:SubnetGroup")
	if got := strs(sg, "subnetIds"); len(got) != 3 || got[0] != subnets[0] || got[2] != subnets[2] {
		t.Errorf("subnet group subnets = %v, want the private subnets", got)
	}
}

func TestParameterGroupRequiresTLSAndAudits(t *testing.T) {
	pg := one(t, deploy(t), "aws:rds/clusterParameterGroup:ClusterParameterGroup")
	if got := str(pg, "family"); got != "aurora-mysql8.0" {
		t.Errorf("family = %q", got)
	}
	params := map[string]string{}
	for _, p := range plain(pg.Inputs["parameters"]).ArrayValue() {
		o := p.ObjectValue()
		params[o["name"].StringValue()] = o["value"].StringValue()
	}
	want := map[string]string{
		"require_secure_transport": "ON",
		"tls_version":              "TLSv1.2,TLSv1.3",
		"server_audit_logging":     "1",
		"server_audit_events":      "CONNECT,QUERY_DCL,QUERY_DDL",
	}
	for k, v := range want {
		if params[k] != v {
			t.Errorf("parameter %s = %q, want %q", k, params[k], v)
		}
	}
	if strings.Contains(params["tls_version"], "TLSv1.1") || strings.Contains(params["tls_version"], "TLSv1,") {
		t.Errorf("tls_version %q admits a version below 1.2", params["tls_version"])
	}
}

func TestTwoPrivateInstancesInDifferentZones(t *testing.T) {
	res := deploy(t)
	instances := res.ByType("aws:rds/clusterInstance:ClusterInstance")
	if len(instances) != 2 {
		t.Fatalf("%d instances, want 2", len(instances))
	}
	seen := map[string]bool{}
	for _, in := range instances {
		if boolean(t, in, "publiclyAccessible") {
			t.Errorf("instance %s is publicly accessible", in.Name)
		}
		if got := str(in, "instanceClass"); got != "db.t3.medium" {
			t.Errorf("instance %s: class %q", in.Name, got)
		}
		if got := str(in, "clusterIdentifier"); got != "aurora-cluster-dev" {
			t.Errorf("instance %s: cluster %q", in.Name, got)
		}
		if got := str(in, "engine"); got != "aurora-mysql" {
			t.Errorf("instance %s: engine %q", in.Name, got)
		}
		az := str(in, "availabilityZone")
		if !slices.Contains(zones, any(az)) {
			t.Errorf("instance %s: AZ %q is not one of the network's", in.Name, az)
		}
		seen[az] = true
	}
	if len(seen) != 2 {
		t.Errorf("instances share an AZ: %v", seen)
	}
}

// On Pulumi Cloud the references default to this stack's own organisation.
func TestStackReferencesFollowTheOrganisation(t *testing.T) {
	res, err := mock.Run(database.Layer, mock.RunOptions{
		Stack: "dev", Organization: "acme", Config: baseConfig(),
		StackOutputs: map[string]map[string]mock.Output{
			"acme/vault-network/dev": networkOutputs(),
			"acme/vault-kms/dev":     kmsOutputs(),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"acme/vault-kms/dev", "acme/vault-network/dev"}; !slices.Equal(res.References, want) {
		t.Errorf("references = %v, want %v", res.References, want)
	}
}

func TestStackReferences(t *testing.T) {
	res := deploy(t)
	want := []string{"organization/vault-kms/dev", "organization/vault-network/dev"}
	if !slices.Equal(res.References, want) {
		t.Errorf("references = %v, want %v", res.References, want)
	}
	cfg := baseConfig()
	cfg["vault-database:networkStack"] = "acme/vault-network/shared"
	cfg["vault-database:kmsStack"] = "acme/vault-kms/shared"
	res, err := runWith(t, cfg, map[string]map[string]mock.Output{
		"acme/vault-network/shared": networkOutputs(),
		"acme/vault-kms/shared":     kmsOutputs(),
	})
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"acme/vault-kms/shared", "acme/vault-network/shared"}
	if !slices.Equal(res.References, want) {
		t.Errorf("references = %v, want %v", res.References, want)
	}
}

// RDS's master secret rotates on a schedule of at most 30 days, without a
// Lambda, and destroying the stack does not switch its rotation off first.
func TestMasterSecretRotation(t *testing.T) {
	res := deploy(t)
	r := one(t, res, "aws:secretsmanager/secretRotation:SecretRotation")
	master := fmt.Sprint(res.Outputs["masterSecretArn"].Value)
	if got := str(r, "secretId"); got != master || !strings.Contains(master, ":secret:rds!cluster-") {
		t.Errorf("rotation secretId = %q, want the RDS-managed master secret %q", got, master)
	}
	if _, ok := r.Inputs["rotationLambdaArn"]; ok {
		t.Error("the managed secret's rotation names a Lambda; RDS rotates it itself")
	}
	rules := plain(r.Inputs["rotationRules"]).ObjectValue()
	if got := rules["automaticallyAfterDays"].NumberValue(); got != database.DefaultMasterRotationDays {
		t.Errorf("automaticallyAfterDays = %v, want %d", got, database.DefaultMasterRotationDays)
	}
	if boolean(t, r, "rotateImmediately") {
		t.Error("rotateImmediately: RDS has just generated the password")
	}
	if !r.Options.RetainOnDelete {
		t.Error("not retainOnDelete: destroy would call CancelRotateSecret on RDS's secret")
	}
	cfg := baseConfig()
	cfg["vault-database:masterRotationDays"] = "30"
	res, err := runWith(t, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	r = one(t, res, "aws:secretsmanager/secretRotation:SecretRotation")
	if got := plain(r.Inputs["rotationRules"]).ObjectValue()["automaticallyAfterDays"].NumberValue(); got != 30 {
		t.Errorf("automaticallyAfterDays = %v with masterRotationDays 30", got)
	}
}

// RDS patches the engine itself; a pinned version must not turn that into a
// downgrade on the next up. An upgrade is explicit: applyEngineVersion.
func TestEngineVersionDriftIsKeptUnlessApplied(t *testing.T) {
	res := deploy(t)
	for _, r := range append(res.ByType("aws:rds/clusterInstance:ClusterInstance"), one(t, res, "aws:rds/cluster:Cluster")) {
		if !slices.Contains(r.Options.IgnoreChanges, "engineVersion") {
			t.Errorf("%s: engineVersion not ignored (ignoreChanges %v)", r.Name, r.Options.IgnoreChanges)
		}
	}
	cfg := baseConfig()
	cfg["vault-database:engineVersion"] = "8.0.mysql_aurora.3.10.1"
	cfg["vault-database:applyEngineVersion"] = "true"
	res, err := runWith(t, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range append(res.ByType("aws:rds/clusterInstance:ClusterInstance"), one(t, res, "aws:rds/cluster:Cluster")) {
		if slices.Contains(r.Options.IgnoreChanges, "engineVersion") {
			t.Errorf("%s: engineVersion ignored although applyEngineVersion is true", r.Name)
		}
	}
	if got := str(one(t, res, "aws:rds/cluster:Cluster"), "engineVersion"); got != "8.0.mysql_aurora.3.10.1" {
		t.Errorf("engineVersion = %q", got)
	}
	// Applied now, not in the next maintenance window.
	if !boolean(t, one(t, res, "aws:rds/cluster:Cluster"), "applyImmediately") {
		t.Error("applyEngineVersion without applyImmediately: RDS would defer the version to the maintenance window")
	}
	cfg["vault-database:applyEngineVersion"] = "yes"
	if _, err := runWith(t, cfg, nil); err == nil || !strings.Contains(err.Error(), `applyEngineVersion is "yes"; it must be true or false`) {
		t.Errorf("applyEngineVersion yes: %v", err)
	}
}

// A production environment keeps its data: deletion protection, a final
// snapshot, protect on the cluster and its instances, a year of logs.
func TestProductionClassKeepsTheData(t *testing.T) {
	cfg := baseConfig()
	cfg["vault-database:environmentClass"] = "production"
	res, err := runWith(t, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := one(t, res, "aws:rds/cluster:Cluster")
	if !boolean(t, c, "deletionProtection") || boolean(t, c, "skipFinalSnapshot") || !finalSnapshotPattern.MatchString(str(c, "finalSnapshotIdentifier")) {
		t.Errorf("production cluster: deletionProtection %v skipFinalSnapshot %v finalSnapshotIdentifier %q",
			boolean(t, c, "deletionProtection"), boolean(t, c, "skipFinalSnapshot"), str(c, "finalSnapshotIdentifier"))
	}
	for _, r := range append(res.ByType("aws:rds/clusterInstance:ClusterInstance"), c) {
		if !r.Options.Protect {
			t.Errorf("%s is not protected in production", r.Name)
		}
	}
	for _, lg := range res.ByType("aws:cloudwatch/logGroup:LogGroup") {
		if got := number(t, lg, "retentionInDays"); got < 365 {
			t.Errorf("%s keeps logs %d days in production", lg.Name, got)
		}
	}
	cfg["vault-database:logRetentionDays"] = "90"
	if _, err := runWith(t, cfg, nil); err == nil || !strings.Contains(err.Error(), "LogRetentionDays is 90; a production environment keeps logs at least 365 days") {
		t.Errorf("production with 90 days of logs: %v", err)
	}
	// The ephemeral default stays destroyable.
	res = deploy(t)
	for _, r := range res.Resources {
		if r.Options.Protect {
			t.Errorf("%s is protected in an ephemeral environment", r.Name)
		}
	}
	// It names one all the same (skipped), so that it keeps a name of its
	// own if it is made production later.
	if c := one(t, res, "aws:rds/cluster:Cluster"); !boolean(t, c, "skipFinalSnapshot") || !finalSnapshotPattern.MatchString(str(c, "finalSnapshotIdentifier")) {
		t.Errorf("ephemeral cluster: skipFinalSnapshot %v finalSnapshotIdentifier %q", boolean(t, c, "skipFinalSnapshot"), str(c, "finalSnapshotIdentifier"))
	}
	cfg = baseConfig()
	cfg["vault-database:environmentClass"] = "prod"
	if _, err := runWith(t, cfg, nil); err == nil || !strings.Contains(err.Error(), `environmentClass is "prod"; it must be ephemeral`) {
		t.Errorf("environmentClass prod: %v", err)
	}
}

// finalSnapshotPattern is the final snapshot's name in environment dev.
var finalSnapshotPattern = regexp.MustCompile(`^final-dev-[0-9]{8}-[0-9]{6}$`)

// The final snapshot is named from the cluster's creation time: unique per
// cluster of an environment, so that retiring a rebuilt environment does
// not fail on the snapshot its predecessor left; kept by ignoreChanges, so
// stable across `up`s; exported, so that it can be found after the cluster
// is gone; within RDS's identifier rules for the longest names.
func TestFinalSnapshotNameIsPerClusterAndStable(t *testing.T) {
	created := time.Date(2026, 12, 6, 11, 55, 50, 0, time.FixedZone("UTC+2", 7200))
	if got := database.FinalSnapshotName(kit.DefaultNames("dev"), created); got != "final-dev-20261206-095550" {
		t.Errorf("FinalSnapshotName = %q, want the UTC creation time to the second", got)
	}
	if database.FinalSnapshotName(kit.DefaultNames("dev"), created) == database.FinalSnapshotName(kit.DefaultNames("dev"), created.Add(time.Second)) {
		t.Error("two clusters created a second apart share a final snapshot name")
	}
	longest, err := kit.NewNames(strings.Repeat("v", kit.MaxVaultNameLen), strings.Repeat("s", kit.MaxSuffixLen))
	if err != nil {
		t.Fatal(err)
	}
	// DeleteDBCluster, FinalDBSnapshotIdentifier: 1 to 63 letters, digits
	// and hyphens, a letter first, no "--", no hyphen at the end.
	identifier := regexp.MustCompile(`^[A-Za-z]([A-Za-z0-9]|-[A-Za-z0-9])*$`)
	if id := database.FinalSnapshotName(longest, created); len(id) > 63 || !identifier.MatchString(id) {
		t.Errorf("%s (%d characters) is not a valid final snapshot identifier", id, len(id))
	}

	before := time.Now().UTC().Truncate(time.Second)
	res := deploy(t)
	after := time.Now().UTC()
	c := one(t, res, "aws:rds/cluster:Cluster")
	name := str(c, "finalSnapshotIdentifier")
	at, err := time.Parse("20060102-150405", strings.TrimPrefix(name, "final-dev-"))
	if err != nil || at.Before(before) || at.After(after) {
		t.Errorf("finalSnapshotIdentifier %q: want the time of the cluster's creation (%v..%v)", name, before, after)
	}
	if !slices.Contains(c.Options.IgnoreChanges, "finalSnapshotIdentifier") {
		t.Error("finalSnapshotIdentifier is not ignored: every `up` would rename the final snapshot")
	}
	if got, _ := res.Outputs["finalSnapshotIdentifier"].Value.(string); got != name {
		t.Errorf("output finalSnapshotIdentifier = %q, want %q", got, name)
	}
}

// An ARN that is not a log group's gives itself, never a wider pattern.
func TestFlowLogListScopeNeverWidens(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws-us-gov:logs:us-gov-west-1:123456789012:log-group:vpc-flow-logs-dev": "arn:aws-us-gov:logs:us-gov-west-1:123456789012:log-group:*",
		"vpc-flow-logs-dev": "vpc-flow-logs-dev",
	} {
		doc, err := database.FlowLogDeliveryPolicy(arn).JSON()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(doc, `"Resource":"`+want+`"`) || strings.Contains(doc, `"Resource":"*"`) {
			t.Errorf("%s: %s, want DescribeLogGroups on %s", arn, doc, want)
		}
	}
}

func TestOutputsAndNoPassword(t *testing.T) {
	res := deploy(t)
	want := map[string]any{
		"clusterIdentifier": "aurora-cluster-dev",
		"masterUsername":    database.DefaultMasterUsername,
		"dbName":            database.DefaultDBName,
		"port":              3306,
	}
	for k, v := range want {
		if got := res.Outputs[k].Value; fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("output %s = %v, want %v", k, got, v)
		}
	}
	for _, k := range []string{"clusterArn", "clusterResourceId", "clusterEndpoint", "readerEndpoint", "masterSecretArn"} {
		if s, _ := res.Outputs[k].Value.(string); s == "" || res.Outputs[k].Secret {
			t.Errorf("output %s = %+v, want a plain non-empty string", k, res.Outputs[k])
		}
	}
	for k, o := range res.Outputs {
		if o.Secret || strings.Contains(strings.ToLower(k), "password") {
			t.Errorf("output %s: the layer has no secret and no password to export", k)
		}
	}
	for _, r := range res.Resources {
		for k, v := range r.Inputs {
			if v.ContainsSecrets() || strings.Contains(strings.ToLower(string(k)), "password") && k != "manageMasterUserPassword" {
				t.Errorf("%s %s: input %s is a secret or a password", r.Type, r.Name, k)
			}
		}
	}
}

func TestConfigOverrides(t *testing.T) {
	cfg := baseConfig()
	cfg["vault-database:instanceClass"] = "db.r6g.large"
	cfg["vault-database:logRetentionDays"] = "365"
	cfg["vault-database:backupRetentionDays"] = "14"
	cfg["vault-database:masterUsername"] = "vaultadmin"
	cfg["vault-database:dbName"] = "app"
	res, err := runWith(t, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range res.ByType("aws:rds/clusterInstance:ClusterInstance") {
		if got := str(in, "instanceClass"); got != "db.r6g.large" {
			t.Errorf("instance class %q", got)
		}
	}
	for _, lg := range res.ByType("aws:cloudwatch/logGroup:LogGroup") {
		if got := number(t, lg, "retentionInDays"); got != 365 {
			t.Errorf("retention %d", got)
		}
	}
	c := one(t, res, "aws:rds/cluster:Cluster")
	if number(t, c, "backupRetentionPeriod") != 14 || str(c, "masterUsername") != "vaultadmin" || str(c, "databaseName") != "app" {
		t.Errorf("cluster ignores the config: %v", c.Inputs)
	}
}

func TestBadConfigIsRefused(t *testing.T) {
	cases := []struct {
		name    string
		set     map[string]string
		unset   string
		wantErr string
	}{
		{"missing suffix", nil, "vault-database:environmentSuffix", "environmentSuffix is required"},
		{"malformed suffix", map[string]string{"vault-database:environmentSuffix": "Dev_1"}, "", "lower-case letters, digits and single hyphens"},
		{"long suffix", map[string]string{"vault-database:environmentSuffix": strings.Repeat("a", kit.MaxSuffixLen+1)}, "", "at most"},
		{"t3.small", map[string]string{"vault-database:instanceClass": "db.t3.small"}, "", `InstanceClass is "db.t3.small": Aurora MySQL 8.0 does not support db.t3.small; use db.t3.medium or larger`},
		{"bad class", map[string]string{"vault-database:instanceClass": "t3.medium"}, "", `InstanceClass is "t3.medium": it must be a DB instance class`},
		{"a leftover masterPassword", map[string]string{"vault-database:masterPassword": "abc@defghij"}, "", "remove it with `pulumi config rm masterPassword`"},
		{"master rotation 0", map[string]string{"vault-database:masterRotationDays": "0"}, "", "masterRotationDays is 0; a number of days must be at least 1"},
		{"master rotation 31", map[string]string{"vault-database:masterRotationDays": "31"}, "", "MasterRotationDays is 31: it must be from 1 to 30"},
		{"MySQL 5.7", map[string]string{"vault-database:engineVersion": "5.7.mysql_aurora.2.12.5"}, "", `EngineVersion is "5.7.mysql_aurora.2.12.5": it must be an Aurora MySQL 3`},
		{"backups 0", map[string]string{"vault-database:backupRetentionDays": "0"}, "", "backupRetentionDays is 0; a number of days must be at least 1"},
		{"backups 36", map[string]string{"vault-database:backupRetentionDays": "36"}, "", "BackupRetentionDays is 36: Aurora keeps automated backups 1 to 35 days"},
		{"backups word", map[string]string{"vault-database:backupRetentionDays": "seven"}, "", "must be a whole number"},
		{"log retention", map[string]string{"vault-database:logRetentionDays": "8"}, "", "LogRetentionDays is 8; CloudWatch Logs accepts only"},
		{"log retention 0", map[string]string{"vault-database:logRetentionDays": "0"}, "", "logRetentionDays is 0; a number of days must be at least 1"},
		{"username", map[string]string{"vault-database:masterUsername": "1admin"}, "", `MasterUsername is "1admin": it must be 1 to 16 letters`},
		{"dbName", map[string]string{"vault-database:dbName": "my-db"}, "", `DBName is "my-db": it must be 1 to 64 letters`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig()
			maps.Copy(cfg, tc.set)
			delete(cfg, tc.unset)
			_, err := runWith(t, cfg, nil)
			kittest.Refused(t, err, tc.wantErr)
			if strings.Contains(err.Error(), "abc@defghij") {
				t.Errorf("error reveals the password: %q", err)
			}
		})
	}
}

// A zone where RDS does not offer the class fails the preview, naming the
// zone and the fix, instead of the instance's creation after the cluster.
func TestZoneWithoutTheInstanceClassIsRefused(t *testing.T) {
	res, err := mock.Run(database.Layer, mock.RunOptions{
		Stack:        "dev",
		Config:       baseConfig(),
		StackOutputs: refs(),
		Invokes: map[string]func(resource.PropertyMap) (resource.PropertyMap, error){
			"aws:rds/getOrderableDbInstance:getOrderableDbInstance": func(args resource.PropertyMap) (resource.PropertyMap, error) {
				if args["instanceClass"].StringValue() != database.DefaultInstanceClass || args["engine"].StringValue() != "aurora-mysql" {
					t.Errorf("orderable lookup for %v", args)
				}
				return resource.NewPropertyMapFromMap(map[string]any{"availabilityZones": []any{"us-east-1a", "us-east-1c"}}), nil
			},
		},
	})
	if err == nil || !strings.Contains(err.Error(), "RDS does not offer this instance class and engine version in us-east-1b") || !strings.Contains(err.Error(), "excludeZoneIds") {
		t.Fatalf("err = %v (%d resources)", err, len(res.Resources))
	}
}

// A version RDS no longer offers stops every preview, a running
// cluster's too: the error says how to get past it without an upgrade.
func TestVersionNoLongerOfferedSaysWhatToDo(t *testing.T) {
	_, err := mock.Run(database.Layer, mock.RunOptions{
		Stack:        "dev",
		Config:       baseConfig(),
		StackOutputs: refs(),
		Invokes: map[string]func(resource.PropertyMap) (resource.PropertyMap, error){
			"aws:rds/getOrderableDbInstance:getOrderableDbInstance": func(resource.PropertyMap) (resource.PropertyMap, error) {
				return nil, errors.New("no RDS Orderable DB Instance Options found matching criteria; try different search")
			},
		},
	})
	for _, want := range []string{"where RDS offers db.t3.medium for " + database.DefaultEngineVersion, "no RDS Orderable DB Instance Options found", "set engineVersion to a version it offers (with applyEngineVersion false the running cluster keeps its own)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}

func TestTooFewZonesIsRefused(t *testing.T) {
	r := refs()
	r["organization/vault-network/dev"]["availabilityZones"] = mock.Output{Value: []any{"us-east-1a"}}
	_, err := runWith(t, baseConfig(), r)
	if err == nil || !strings.Contains(err.Error(), "need 2 distinct") {
		t.Fatalf("err = %v, want the AZ count error", err)
	}
}

func TestMissingReferencedOutputIsNamed(t *testing.T) {
	r := refs()
	delete(r["organization/vault-kms/dev"], "databaseKeyArn")
	_, err := runWith(t, baseConfig(), r)
	if err == nil || !strings.Contains(err.Error(), "organization/vault-kms/dev has no output databaseKeyArn") {
		t.Fatalf("err = %v, want one naming the stack and output", err)
	}
}

// RDS creates the master secret with the secrets key on the deployer's
// behalf, which only the vault's administrators may: a preview by any
// other principal is refused with the fix.
func TestDeployerMustBeAnAdministrator(t *testing.T) {
	r := refs()
	keys := r["organization/vault-kms/dev"]
	keys["administrators"] = mock.Output{Value: []any{"arn:aws:iam::123456789012:role/platform-admin"}}
	_, err := runWith(t, baseConfig(), r)
	kittest.Refused(t, err, "add "+deployer+" to administrators in stacks/kms and run up:kms, or deploy as one of them")
	keys["administrators"] = mock.Output{Value: []any{"arn:aws:iam::123456789012:role/platform-admin", deployer}}
	res, err := runWith(t, baseConfig(), r)
	if err != nil {
		t.Fatalf("a deployer among the administrators: %v", err)
	}
	if got := str(one(t, res, "aws:rds/cluster:Cluster"), "masterUserSecretKmsKeyId"); got != secretsKeyArn {
		t.Errorf("masterUserSecretKmsKeyId = %q, want the secrets key", got)
	}
}
