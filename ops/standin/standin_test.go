package standin

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/dbvault/dbvault/stacks/kit/awsfake"
)

const (
	vpcType     = "aws:ec2/vpc:Vpc"
	subnetType  = "aws:ec2/subnet:Subnet"
	clusterType = "aws:rds/cluster:Cluster"
)

func urn(typ, name string) string {
	return string(resource.NewURN("dev", "vault-test", "", tokens.Type(typ), name))
}

func encode(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := pb(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func decode(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := props(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func inputs(kv map[string]any) resource.PropertyMap { return resource.NewPropertyMapFromMap(kv) }

// configured returns a stand-in configured for eu-west-1, recording into a
// fresh cloud directory when cloudDir is true.
func configured(t *testing.T, cloudDir bool) *Provider {
	t.Helper()
	dir := ""
	if cloudDir {
		dir = t.TempDir()
	}
	p := New(dir)
	resp, err := p.Configure(context.Background(), &pulumirpc.ConfigureRequest{
		Args: encode(t, inputs(map[string]any{"region": "eu-west-1"})),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.GetAcceptSecrets() {
		t.Fatal("Configure must accept secrets, or secret inputs reach Create in plain text")
	}
	return p
}

func create(t *testing.T, p *Provider, typ, name string, in resource.PropertyMap) (string, resource.PropertyMap) {
	t.Helper()
	resp, err := p.Create(context.Background(), &pulumirpc.CreateRequest{Urn: urn(typ, name), Properties: encode(t, in)})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return resp.GetId(), decode(t, resp.GetProperties())
}

func TestGetPluginInfoReportsTheSDKVersion(t *testing.T) {
	info, err := New("").GetPluginInfo(context.Background(), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if info.GetVersion() != "6.83.4" {
		t.Fatalf("version %q, want the pulumi-aws SDK's 6.83.4", info.GetVersion())
	}
}

func TestCheckConfigNeedsARegion(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	p := New("")
	resp, err := p.CheckConfig(context.Background(), &pulumirpc.CheckRequest{News: encode(t, inputs(map[string]any{"version": "6.83.4"}))})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetFailures()) != 1 || resp.GetFailures()[0].GetProperty() != "region" {
		t.Fatalf("failures %v, want one on region", resp.GetFailures())
	}
	resp, err = p.CheckConfig(context.Background(), &pulumirpc.CheckRequest{News: encode(t, inputs(map[string]any{"region": "us-east-1"}))})
	if err != nil || len(resp.GetFailures()) != 0 {
		t.Fatalf("with a region: %v %v", resp.GetFailures(), err)
	}
}

func TestDiffConfigIgnoresVersionReplacesOnRegionUpdatesDefaultTags(t *testing.T) {
	p := New("")
	old := inputs(map[string]any{"region": "us-east-1", "version": "6.83.4"})
	tagged := map[string]any{"tags": map[string]any{"Environment": "dev"}}
	for _, tc := range []struct {
		news    resource.PropertyMap
		want    pulumirpc.DiffResponse_DiffChanges
		replace bool
	}{
		{inputs(map[string]any{"region": "us-east-1", "version": "6.83.5"}), pulumirpc.DiffResponse_DIFF_NONE, false},
		{inputs(map[string]any{"region": "eu-west-1", "version": "6.83.4"}), pulumirpc.DiffResponse_DIFF_SOME, true},
		{inputs(map[string]any{"region": "us-east-1", "version": "6.83.4", "defaultTags": tagged}), pulumirpc.DiffResponse_DIFF_SOME, false},
	} {
		resp, err := p.DiffConfig(context.Background(), &pulumirpc.DiffRequest{OldInputs: encode(t, old), News: encode(t, tc.news)})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetChanges() != tc.want || (len(resp.GetReplaces()) > 0) != tc.replace {
			t.Errorf("news %v: changes %v, replaces %v; want %v, replace %v", tc.news, resp.GetChanges(), resp.GetReplaces(), tc.want, tc.replace)
		}
	}
}

func TestConfigureRegionShapesARNs(t *testing.T) {
	p := configured(t, false)
	_, out := create(t, p, vpcType, "vpc", inputs(map[string]any{"cidrBlock": "10.0.0.0/16"}))
	if arn := awsfake.StringInput(out, "arn"); !strings.HasPrefix(arn, "arn:aws:ec2:eu-west-1:") {
		t.Fatalf("arn %q not in the configured region", arn)
	}
}

func TestCheckFailsOnAMissingRequiredInputNamingTheResource(t *testing.T) {
	p := configured(t, false)
	for _, tc := range []struct {
		typ, name string
		in        map[string]any
		want      []string
	}{
		{subnetType, "private-a", map[string]any{"cidrBlock": "10.0.0.0/20"}, []string{"vpcId"}},
		{clusterType, "aurora", map[string]any{"engine": "aurora-mysql", "masterUsername": "admin"}, []string{"masterPassword"}},
		{"aws:iam/role:Role", "rotator", map[string]any{"name": "rotator-dev"}, []string{"assumeRolePolicy"}},
		{"aws:rds/subnetGroup:SubnetGroup", "db", map[string]any{"subnetIds": []any{}}, []string{"subnetIds"}},
	} {
		resp, err := p.Check(context.Background(), &pulumirpc.CheckRequest{Urn: urn(tc.typ, tc.name), News: encode(t, inputs(tc.in))})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range resp.GetFailures() {
			got = append(got, f.GetProperty())
			if !strings.Contains(f.GetReason(), `"`+tc.name+`"`) {
				t.Errorf("%s: reason %q does not name the resource", tc.name, f.GetReason())
			}
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: failures on %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCheckAcceptsCompleteSecretAndUnknownInputs(t *testing.T) {
	p := configured(t, false)
	in := inputs(map[string]any{"engine": "aurora-mysql"})
	in["masterPassword"] = resource.MakeSecret(resource.NewProperty("pw-never-logged"))
	in["dbSubnetGroupName"] = resource.MakeComputed(resource.NewProperty(""))
	resp, err := p.Check(context.Background(), &pulumirpc.CheckRequest{Urn: urn(clusterType, "aurora"), News: encode(t, in)})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetFailures()) != 0 {
		t.Fatalf("failures %v on complete inputs", resp.GetFailures())
	}
	if !decode(t, resp.GetInputs())["masterPassword"].IsSecret() {
		t.Fatal("Check lost the secretness of masterPassword")
	}
}

func TestDiff(t *testing.T) {
	p := configured(t, false)
	base := map[string]any{"engine": "aurora-mysql", "clusterIdentifier": "aurora-dev", "tags": map[string]any{"Environment": "dev"}}
	with := func(k string, v any) resource.PropertyMap {
		m := inputs(base)
		m[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
		return m
	}
	secretPw := inputs(base)
	secretPw["masterPassword"] = resource.MakeSecret(resource.NewProperty("a"))
	plainPw := inputs(base)
	plainPw["masterPassword"] = resource.NewProperty("a")
	unknown := inputs(base)
	unknown["dbSubnetGroupName"] = resource.MakeComputed(resource.NewProperty(""))
	for _, tc := range []struct {
		name       string
		olds, news resource.PropertyMap
		ignore     []string
		changes    pulumirpc.DiffResponse_DiffChanges
		diffs      string
		replaces   string
	}{
		{"same inputs", inputs(base), inputs(base), nil, pulumirpc.DiffResponse_DIFF_NONE, "", ""},
		{"tag change updates", inputs(base), with("tags", map[string]any{"Environment": "prod"}), nil, pulumirpc.DiffResponse_DIFF_SOME, "tags", ""},
		{"identifier change replaces", inputs(base), with("clusterIdentifier", "aurora-prod"), nil, pulumirpc.DiffResponse_DIFF_SOME, "clusterIdentifier", "clusterIdentifier"},
		{"added input", inputs(base), with("backupRetentionPeriod", 7), nil, pulumirpc.DiffResponse_DIFF_SOME, "backupRetentionPeriod", ""},
		{"removed input", with("backupRetentionPeriod", 7), inputs(base), nil, pulumirpc.DiffResponse_DIFF_SOME, "backupRetentionPeriod", ""},
		{"secretness alone", plainPw, secretPw, nil, pulumirpc.DiffResponse_DIFF_NONE, "", ""},
		{"ignored input", secretPw, with("masterPassword", "b"), []string{"masterPassword"}, pulumirpc.DiffResponse_DIFF_NONE, "", ""},
		{"unknown is a change", inputs(base), unknown, nil, pulumirpc.DiffResponse_DIFF_SOME, "dbSubnetGroupName", "dbSubnetGroupName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{
				Urn: urn(clusterType, "aurora"), Id: "aurora-dev",
				OldInputs: encode(t, tc.olds), Olds: encode(t, tc.olds), News: encode(t, tc.news), IgnoreChanges: tc.ignore,
			})
			if err != nil {
				t.Fatal(err)
			}
			if resp.GetChanges() != tc.changes || strings.Join(resp.GetDiffs(), ",") != tc.diffs || strings.Join(resp.GetReplaces(), ",") != tc.replaces {
				t.Fatalf("changes %v diffs %v replaces %v; want %v %q %q", resp.GetChanges(), resp.GetDiffs(), resp.GetReplaces(), tc.changes, tc.diffs, tc.replaces)
			}
			if tc.replaces != "" && !resp.GetDeleteBeforeReplace() {
				t.Fatal("a named resource must be deleted before its replacement (AWS refuses two with one name)")
			}
			for _, k := range resp.GetDiffs() {
				if resp.GetDetailedDiff()[k] == nil {
					t.Fatalf("no detailed diff for %s", k)
				}
			}
		})
	}
}

func TestCreateComputesOutputsWithAwsfakeAndKeepsSecrets(t *testing.T) {
	p := configured(t, false)
	in := inputs(map[string]any{"engine": "aurora-mysql", "clusterIdentifier": "aurora-dev", "masterUsername": "admin"})
	in["masterPassword"] = resource.MakeSecret(resource.NewProperty("pw-never-logged"))
	id, out := create(t, p, clusterType, "aurora", in)
	wantID, want := awsfake.Env{Account: awsfake.DefaultAccount, Region: "eu-west-1"}.Resource(clusterType, "aurora", in)
	if id != wantID || id != "aurora-dev" {
		t.Fatalf("id %q, want awsfake's %q", id, wantID)
	}
	for _, k := range []string{"arn", "endpoint", "readerEndpoint", "clusterResourceId"} {
		if awsfake.StringInput(out, k) == "" || awsfake.StringInput(out, k) != awsfake.StringInput(want, k) {
			t.Errorf("%s = %q, want awsfake's %q", k, awsfake.StringInput(out, k), awsfake.StringInput(want, k))
		}
	}
	if port := out["port"]; !port.IsNumber() || port.NumberValue() != 3306 {
		t.Errorf("port %v, want 3306", port)
	}
	if !out["masterPassword"].IsSecret() {
		t.Fatal("masterPassword came back from Create in plain text")
	}
	// The same logical name gives the same values on every run.
	id2, out2 := create(t, p, clusterType, "aurora", in)
	if id2 != id || !out2.DeepEquals(out) {
		t.Fatal("Create is not deterministic")
	}
}

func TestCreatePreviewRecordsNothing(t *testing.T) {
	p := configured(t, true)
	resp, err := p.Create(context.Background(), &pulumirpc.CreateRequest{
		Urn: urn(vpcType, "vpc"), Preview: true, Properties: encode(t, inputs(map[string]any{"cidrBlock": "10.0.0.0/16"})),
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetId() != "" {
		t.Fatalf("preview returned id %q", resp.GetId())
	}
	if live, _ := p.cloud.List(); len(live) != 0 {
		t.Fatalf("a preview recorded %v", live)
	}
}

func TestUpdateKeepsIDAndRecomputes(t *testing.T) {
	p := configured(t, true)
	old := inputs(map[string]any{"cidrBlock": "10.0.0.0/16", "tags": map[string]any{"Environment": "dev"}})
	id, outs := create(t, p, vpcType, "vpc", old)
	news := inputs(map[string]any{"cidrBlock": "10.0.0.0/16", "tags": map[string]any{"Environment": "prod"}})
	resp, err := p.Update(context.Background(), &pulumirpc.UpdateRequest{
		Urn: urn(vpcType, "vpc"), Id: id, Olds: encode(t, outs), OldInputs: encode(t, old), News: encode(t, news),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, resp.GetProperties())
	if awsfake.StringInput(got, "id") != id || awsfake.StringInput(got, "arn") != awsfake.StringInput(outs, "arn") {
		t.Fatalf("update changed id/arn: %v", got)
	}
	if got["tags"].ObjectValue()["Environment"].StringValue() != "prod" {
		t.Fatalf("update did not take the new tags: %v", got["tags"])
	}
	if live, _ := p.cloud.List(); len(live) != 1 {
		t.Fatalf("an update must not add a resource: %v", live)
	}
}

// An update of a resource the cloud holds no record of (one created before
// the cloud directory was set) records it; it once took the cloud's lock
// twice and hung the provider.
func TestUpdateOfAnUnrecordedResourceRecordsIt(t *testing.T) {
	p := configured(t, true)
	in := inputs(map[string]any{"cidrBlock": "10.0.0.0/16"})
	_, err := p.Update(context.Background(), &pulumirpc.UpdateRequest{
		Urn: urn(vpcType, "vpc"), Id: "vpc-0", Olds: encode(t, in), OldInputs: encode(t, in), News: encode(t, in),
	})
	if err != nil {
		t.Fatal(err)
	}
	if live, _ := p.cloud.List(); len(live) != 1 || live[0].URN != urn(vpcType, "vpc") {
		t.Fatalf("the updated resource must be recorded once: %v", live)
	}
}

func TestReadReportsRecordedAndGoneResources(t *testing.T) {
	p := configured(t, true)
	in := inputs(map[string]any{"cidrBlock": "10.0.0.0/16"})
	id, out := create(t, p, vpcType, "vpc", in)
	resp, err := p.Read(context.Background(), &pulumirpc.ReadRequest{Urn: urn(vpcType, "vpc"), Id: id, Properties: encode(t, out), Inputs: encode(t, in)})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetId() != id || !decode(t, resp.GetProperties()).DeepEquals(out) {
		t.Fatalf("read %v, want the recorded state", resp)
	}
	resp, err = p.Read(context.Background(), &pulumirpc.ReadRequest{Urn: urn(vpcType, "other"), Id: "vpc-0", Properties: encode(t, out)})
	if err != nil || resp.GetId() != "" {
		t.Fatalf("a resource the cloud does not hold must read as gone: %v %v", resp, err)
	}
}

func TestDeleteRefusesWhileReferencedThenSucceeds(t *testing.T) {
	p := configured(t, true)
	vpcID, _ := create(t, p, vpcType, "vpc", inputs(map[string]any{"cidrBlock": "10.0.0.0/16"}))
	create(t, p, subnetType, "private-a", inputs(map[string]any{"vpcId": vpcID, "cidrBlock": "10.0.0.0/20"}))

	_, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: urn(vpcType, "vpc"), Id: vpcID})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "DependencyViolation") ||
		!strings.Contains(err.Error(), "private-a") {
		t.Fatalf("deleting a VPC with a subnet: %v, want a DependencyViolation naming the subnet", err)
	}
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: urn(subnetType, "private-a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: urn(vpcType, "vpc"), Id: vpcID}); err != nil {
		t.Fatal(err)
	}
	if live, err := LiveResources(p.cloud.dir); err != nil || len(live) != 0 {
		t.Fatalf("left %v (%v)", live, err)
	}
}

// The provider reads a trail's default event selector back as an empty
// list; the stand-in does the same and plans eventSelectors against the
// state, so a program that sets the default shows a change on every up,
// as it would in a real account, and one that leaves it unset does not.
func TestTrailDefaultEventSelectorReadsBackEmpty(t *testing.T) {
	p := configured(t, true)
	trail := "aws:cloudtrail/trail:Trail"
	selector := map[string]any{"readWriteType": "All", "includeManagementEvents": true}
	in := inputs(map[string]any{"name": "trail-dev", "s3BucketName": "b", "eventSelectors": []any{selector}})
	id, out := create(t, p, trail, "trail", in)
	if sel := out["eventSelectors"]; !sel.IsArray() || len(sel.ArrayValue()) != 0 {
		t.Fatalf("eventSelectors read back as %v, want [] as the provider reads the default", sel)
	}
	diffOf := func(news resource.PropertyMap) *pulumirpc.DiffResponse {
		resp, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{Urn: urn(trail, "trail"), Id: id,
			Olds: encode(t, out), OldInputs: encode(t, in), News: encode(t, news)})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := diffOf(in); resp.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME || !slices.Equal(resp.GetDiffs(), []string{"eventSelectors"}) {
		t.Errorf("the same program again: %v, want the perpetual eventSelectors change", resp)
	}
	without := inputs(map[string]any{"name": "trail-dev", "s3BucketName": "b"})
	id2, out2 := create(t, p, trail, "trail2", without)
	resp, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{Urn: urn(trail, "trail2"), Id: id2,
		Olds: encode(t, out2), OldInputs: encode(t, without), News: encode(t, without)})
	if err != nil || resp.GetChanges() == pulumirpc.DiffResponse_DIFF_SOME {
		t.Errorf("a trail without selectors: %v %v, want no change", resp, err)
	}
	// A selector with data events is not the default, and reads back.
	data := map[string]any{"readWriteType": "All", "includeManagementEvents": true, "dataResources": []any{map[string]any{"type": "AWS::S3::Object", "values": []any{"arn:aws:s3"}}}}
	_, out3 := create(t, p, trail, "trail3", inputs(map[string]any{"name": "t3", "s3BucketName": "b", "eventSelectors": []any{data}}))
	if sel := out3["eventSelectors"]; !sel.IsArray() || len(sel.ArrayValue()) != 1 {
		t.Errorf("a data-event selector read back as %v", sel)
	}
}

// RDS deletes its managed master secret, and the secret's rotation schedule
// with it, when the cluster goes: the schedule (kept on delete by the
// database layer) must not outlive the cluster in the stand-in's cloud.
func TestDeletingAClusterDeletesItsManagedMasterSecret(t *testing.T) {
	p := configured(t, true)
	_, out := create(t, p, clusterType, "cluster", inputs(map[string]any{
		"engine": "aurora-mysql", "masterUsername": "admin", "manageMasterUserPassword": true,
	}))
	secrets := out["masterUserSecrets"]
	if !secrets.IsArray() || len(secrets.ArrayValue()) != 1 {
		t.Fatalf("masterUserSecrets = %v", secrets)
	}
	master := secrets.ArrayValue()[0].ObjectValue()["secretArn"].StringValue()
	if !strings.Contains(master, ":secret:rds!cluster-") {
		t.Fatalf("master secret ARN %q", master)
	}
	create(t, p, "aws:secretsmanager/secretRotation:SecretRotation", "master-rotation", inputs(map[string]any{
		"secretId": master, "rotationRules": map[string]any{"automaticallyAfterDays": 7},
	}))
	create(t, p, vpcType, "unrelated", inputs(map[string]any{"cidrBlock": "10.0.0.0/16"}))
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: urn(clusterType, "cluster")}); err != nil {
		t.Fatal(err)
	}
	live, err := LiveResources(p.cloud.dir)
	if err != nil || len(live) != 1 || live[0].Type != vpcType {
		t.Fatalf("left %v (%v), want only the unrelated VPC", live, err)
	}
}

func TestDeleteAfterCreateBeforeDeleteReplacementKeepsTheNewResource(t *testing.T) {
	p := configured(t, true)
	create(t, p, vpcType, "vpc", inputs(map[string]any{"cidrBlock": "10.0.0.0/16"}))
	create(t, p, vpcType, "vpc", inputs(map[string]any{"cidrBlock": "10.1.0.0/16"}))
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: urn(vpcType, "vpc")}); err != nil {
		t.Fatal(err)
	}
	live, err := p.cloud.List()
	if err != nil || len(live) != 1 || !slices.Contains(live[0].Refs, "10.1.0.0/16") {
		t.Fatalf("after replacing: %v (%v), want only the new VPC", live, err)
	}
}

func TestRecordsHoldNoSecrets(t *testing.T) {
	p := configured(t, true)
	in := inputs(map[string]any{"secretId": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"})
	in["secretString"] = resource.MakeSecret(resource.NewProperty(`{"password":"pw-never-on-disk"}`))
	create(t, p, "aws:secretsmanager/secretVersion:SecretVersion", "initial", in)
	entries, err := os.ReadDir(p.cloud.dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("records %v (%v)", entries, err)
	}
	b, err := os.ReadFile(p.cloud.dir + "/" + entries[0].Name())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "pw-never-on-disk") {
		t.Fatal("a secret input reached the stand-in's cloud directory")
	}
}

func TestInvoke(t *testing.T) {
	p := configured(t, false)
	resp, err := p.Invoke(context.Background(), &pulumirpc.InvokeRequest{Tok: "aws:index/getCallerIdentity:getCallerIdentity", Args: encode(t, inputs(nil))})
	if err != nil {
		t.Fatal(err)
	}
	if got := awsfake.StringInput(decode(t, resp.GetReturn()), "accountId"); got != awsfake.DefaultAccount {
		t.Fatalf("accountId %q", got)
	}
	resp, err = p.Invoke(context.Background(), &pulumirpc.InvokeRequest{Tok: "aws:index/getRegion:getRegion", Args: encode(t, inputs(nil))})
	if err != nil || awsfake.StringInput(decode(t, resp.GetReturn()), "name") != "eu-west-1" {
		t.Fatalf("getRegion: %v %v", resp, err)
	}
	_, err = p.Invoke(context.Background(), &pulumirpc.InvokeRequest{Tok: "aws:ec2/getAmi:getAmi", Args: encode(t, inputs(nil))})
	if status.Code(err) != codes.Unimplemented || !strings.Contains(err.Error(), "aws:ec2/getAmi:getAmi") {
		t.Fatalf("unknown invoke: %v, want an error naming it", err)
	}
}

// The engine deletes a stack's independent resources in parallel through
// one provider process: no delete may trip over another's.
func TestParallelDeletesDoNotInterfere(t *testing.T) {
	p := configured(t, true)
	const n = 40
	for i := range n {
		create(t, p, "aws:cloudwatch/logGroup:LogGroup", fmt.Sprintf("lg-%d", i), inputs(map[string]any{"name": fmt.Sprintf("/x/%d", i)}))
	}
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: urn("aws:cloudwatch/logGroup:LogGroup", fmt.Sprintf("lg-%d", i))})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if live, err := p.cloud.List(); err != nil || len(live) != 0 {
		t.Fatalf("left %d (%v)", len(live), err)
	}
}
