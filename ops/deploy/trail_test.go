package deploy

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/dbvault/dbvault/stacks/secrets"
)

// fakeTrails is an account's CloudTrail.
type fakeTrails struct {
	trails    []types.Trail
	logging   map[string]bool
	selectors map[string]*cloudtrail.GetEventSelectorsOutput
	refuse    string // the action that answers AccessDenied
	calls     int
	regions   []string
}

type apiError struct{ code, msg string }

func (e apiError) Error() string     { return e.code + ": " + e.msg }
func (e apiError) ErrorCode() string { return e.code }

func (f *fakeTrails) call(action string, optFns []func(*cloudtrail.Options)) error {
	f.calls++
	var o cloudtrail.Options
	for _, fn := range optFns {
		fn(&o)
	}
	f.regions = append(f.regions, o.Region)
	if f.refuse == action {
		return apiError{"AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/deployer/x is not authorized to perform: cloudtrail:" + action}
	}
	return nil
}

func (f *fakeTrails) DescribeTrails(_ context.Context, _ *cloudtrail.DescribeTrailsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error) {
	if err := f.call("DescribeTrails", optFns); err != nil {
		return nil, err
	}
	return &cloudtrail.DescribeTrailsOutput{TrailList: f.trails}, nil
}

func (f *fakeTrails) GetTrailStatus(_ context.Context, in *cloudtrail.GetTrailStatusInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error) {
	if err := f.call("GetTrailStatus", optFns); err != nil {
		return nil, err
	}
	return &cloudtrail.GetTrailStatusOutput{IsLogging: aws.Bool(f.logging[aws.ToString(in.Name)])}, nil
}

func (f *fakeTrails) GetEventSelectors(_ context.Context, in *cloudtrail.GetEventSelectorsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error) {
	if err := f.call("GetEventSelectors", optFns); err != nil {
		return nil, err
	}
	return f.selectors[aws.ToString(in.TrailName)], nil
}

const (
	orgTrail  = "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail"
	dataTrail = "arn:aws:cloudtrail:us-east-1:123456789012:trail/s3-data-only"
)

func management() *cloudtrail.GetEventSelectorsOutput {
	return &cloudtrail.GetEventSelectorsOutput{EventSelectors: []types.EventSelector{{IncludeManagementEvents: aws.Bool(true), ReadWriteType: types.ReadWriteTypeAll}}}
}

func dataOnly() *cloudtrail.GetEventSelectorsOutput {
	return &cloudtrail.GetEventSelectorsOutput{AdvancedEventSelectors: []types.AdvancedEventSelector{{FieldSelectors: []types.AdvancedFieldSelector{
		{Field: aws.String("eventCategory"), Equals: []string{"Data"}},
		{Field: aws.String("resources.type"), Equals: []string{"AWS::S3::Object"}},
	}}}}
}

func accountWith(trails ...string) *fakeTrails {
	f := &fakeTrails{logging: map[string]bool{}, selectors: map[string]*cloudtrail.GetEventSelectorsOutput{}}
	for _, arn := range trails {
		name := arn[strings.LastIndex(arn, "/")+1:]
		f.trails = append(f.trails, types.Trail{Name: aws.String(name), TrailARN: aws.String(arn), HomeRegion: aws.String("us-east-1")})
		f.logging[arn] = true
	}
	return f
}

func trailOrch(trails CloudTrailAPI) (*Orchestrator, *fakeRunner, *bytes.Buffer) {
	f := newFake()
	var out bytes.Buffer
	o := newOrch(f, &out)
	o.Trails = trails
	return o, f, &out
}

const existingKey = "vault-secrets:existingTrailName"

func TestTheAccountsTrailIsUsedByDefault(t *testing.T) {
	tr := accountWith(dataTrail, orgTrail)
	tr.selectors[dataTrail] = dataOnly()
	tr.selectors[orgTrail] = management()
	o, f, out := trailOrch(tr)
	var plan bytes.Buffer
	o.PlanOut = &plan
	if _, err := o.DeployAll(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if got := f.stacks["secrets"][existingKey].Value; got != orgTrail {
		t.Fatalf("existingTrailName = %q, want %s", got, orgTrail)
	}
	for _, l := range []string{"network", "kms", "database"} {
		if _, ok := f.stacks[l][existingKey]; ok {
			t.Fatalf("layer %s got existingTrailName", l)
		}
	}
	want := "using the account's trail " + orgTrail + " (set createTrail true to create one"
	if strings.Count(out.String(), want) != 1 || !strings.Contains(plan.String(), want) {
		t.Fatalf("the plan output does not say once which trail is used:\n%s\n%s", out.String(), plan.String())
	}
	if i, j := strings.Index(out.String(), want), strings.Index(out.String(), "==> secrets: up"); i < 0 || i > j {
		t.Fatal("the trail is announced after the secrets layer went up")
	}
	for _, r := range tr.regions {
		if r != "us-east-1" {
			t.Fatalf("a call went to region %q", r)
		}
	}
}

func TestNoUsableTrailLeavesTheLayersOwn(t *testing.T) {
	for name, tr := range map[string]*fakeTrails{
		"none": accountWith(),
		"data events only": func() *fakeTrails {
			tr := accountWith(dataTrail)
			tr.selectors[dataTrail] = dataOnly()
			return tr
		}(),
		"write only": func() *fakeTrails {
			tr := accountWith(orgTrail)
			tr.selectors[orgTrail] = &cloudtrail.GetEventSelectorsOutput{EventSelectors: []types.EventSelector{{IncludeManagementEvents: aws.Bool(true), ReadWriteType: types.ReadWriteTypeWriteOnly}}}
			return tr
		}(),
		"not logging": func() *fakeTrails {
			tr := accountWith(orgTrail)
			tr.selectors[orgTrail] = management()
			tr.logging[orgTrail] = false
			return tr
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			o, f, out := trailOrch(tr)
			if _, err := o.DeployAll(context.Background(), ""); err != nil {
				t.Fatal(err)
			}
			if v, ok := f.stacks["secrets"][existingKey]; ok {
				t.Fatalf("existingTrailName seeded: %q", v.Value)
			}
			if !strings.Contains(out.String(), "no trail of the account records its management events") {
				t.Fatalf("no note:\n%s", out.String())
			}
		})
	}
}

func TestAdvancedSelectorsOfManagementEvents(t *testing.T) {
	sel := func(fs ...types.AdvancedFieldSelector) *cloudtrail.GetEventSelectorsOutput {
		return &cloudtrail.GetEventSelectorsOutput{AdvancedEventSelectors: []types.AdvancedEventSelector{{FieldSelectors: fs}}}
	}
	mgmt := types.AdvancedFieldSelector{Field: aws.String("eventCategory"), Equals: []string{"Management"}}
	for name, c := range map[string]struct {
		sel  *cloudtrail.GetEventSelectorsOutput
		want bool
	}{
		"management":         {sel(mgmt), true},
		"without kms events": {sel(mgmt, types.AdvancedFieldSelector{Field: aws.String("eventSource"), NotEquals: []string{"kms.amazonaws.com"}}), true},
		"read only":          {sel(mgmt, types.AdvancedFieldSelector{Field: aws.String("readOnly"), Equals: []string{"true"}}), false},
		"reads and writes apart": {&cloudtrail.GetEventSelectorsOutput{AdvancedEventSelectors: []types.AdvancedEventSelector{
			{FieldSelectors: []types.AdvancedFieldSelector{mgmt, {Field: aws.String("readOnly"), Equals: []string{"false"}}}},
			{FieldSelectors: []types.AdvancedFieldSelector{mgmt, {Field: aws.String("readOnly"), Equals: []string{"true"}}, {Field: aws.String("eventSource"), NotEquals: []string{"kms.amazonaws.com"}}}},
		}}, true},
		"writes, and reads without secrets": {&cloudtrail.GetEventSelectorsOutput{AdvancedEventSelectors: []types.AdvancedEventSelector{
			{FieldSelectors: []types.AdvancedFieldSelector{mgmt, {Field: aws.String("readOnly"), Equals: []string{"false"}}}},
			{FieldSelectors: []types.AdvancedFieldSelector{mgmt, {Field: aws.String("readOnly"), Equals: []string{"true"}}, {Field: aws.String("eventSource"), NotEquals: []string{"secretsmanager.amazonaws.com"}}}},
		}}, false},
		"without secrets":         {sel(mgmt, types.AdvancedFieldSelector{Field: aws.String("eventSource"), NotEquals: []string{"secretsmanager.amazonaws.com"}}), false},
		"basic, secrets left out": {&cloudtrail.GetEventSelectorsOutput{EventSelectors: []types.EventSelector{{IncludeManagementEvents: aws.Bool(true), ReadWriteType: types.ReadWriteTypeAll, ExcludeManagementEventSources: []string{"secretsmanager.amazonaws.com"}}}}, false},
		// Every source a rule watches must be kept, not Secrets Manager's alone.
		"secrets only":         {sel(mgmt, types.AdvancedFieldSelector{Field: aws.String("eventSource"), Equals: []string{"secretsmanager.amazonaws.com"}}), false},
		"every watched source": {sel(mgmt, types.AdvancedFieldSelector{Field: aws.String("eventSource"), Equals: append([]string{"s3.amazonaws.com"}, secrets.WatchedEventSources...)}), true},
		"without lambda":       {sel(mgmt, types.AdvancedFieldSelector{Field: aws.String("eventSource"), NotEquals: []string{"lambda.amazonaws.com"}}), false},
		"basic, iam left out":  {&cloudtrail.GetEventSelectorsOutput{EventSelectors: []types.EventSelector{{IncludeManagementEvents: aws.Bool(true), ReadWriteType: types.ReadWriteTypeAll, ExcludeManagementEventSources: []string{"iam.amazonaws.com"}}}}, false},
		// Reads and writes from two basic selectors.
		"basic, reads and writes apart": {&cloudtrail.GetEventSelectorsOutput{EventSelectors: []types.EventSelector{
			{IncludeManagementEvents: aws.Bool(true), ReadWriteType: types.ReadWriteTypeReadOnly},
			{IncludeManagementEvents: aws.Bool(true), ReadWriteType: types.ReadWriteTypeWriteOnly},
		}}, true},
		"empty answer": {&cloudtrail.GetEventSelectorsOutput{}, false},
	} {
		if got := RecordsManagementEvents(c.sel); got != c.want {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
}

func TestRefusedLookupNamesThePermission(t *testing.T) {
	for _, action := range []string{"DescribeTrails", "GetTrailStatus", "GetEventSelectors"} {
		t.Run(action, func(t *testing.T) {
			tr := accountWith(orgTrail)
			tr.selectors[orgTrail] = management()
			tr.refuse = action
			o, f, _ := trailOrch(tr)
			_, err := o.DeployAll(context.Background(), "")
			var refused *TrailRefusedError
			if !errors.As(err, &refused) || refused.Permission != "cloudtrail:"+action {
				t.Fatalf("err = %v, want a refusal of cloudtrail:%s", err, action)
			}
			for _, want := range []string{"cloudtrail:" + action, "pulumi config set createTrail true --stack organization/vault-secrets/dev", "pulumi config set existingTrailName"} {
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("error lacks %q:\n%v", want, err)
				}
			}
			if len(f.ops("up")) != 0 {
				t.Fatalf("layers went up before the lookup: %v", f.ops("up"))
			}
		})
	}
}

// No lookup when the stack names a trail, asks for its own, has been
// deployed with a trail already, or nobody gave the orchestrator a
// CloudTrail (tests, the rehearsal).
func TestNoLookupWhenTheStackDecided(t *testing.T) {
	for name, c := range map[string]struct {
		stack  Config
		outs   Outputs
		trails bool
	}{
		"existingTrailName set":       {stack: Config{existingKey: {Value: "my-trail"}}, trails: true},
		"createTrail true":            {stack: Config{"vault-secrets:createTrail": {Value: "true"}}, trails: true},
		"deployed with its own trail": {stack: Config{"vault-secrets:environmentSuffix": {Value: "dev"}}, outs: Outputs{"trailArn": {Value: "arn:aws:cloudtrail:us-east-1:123456789012:trail/trail-dev"}}, trails: true},
		"no CloudTrail given":         {},
	} {
		t.Run(name, func(t *testing.T) {
			tr := accountWith(orgTrail)
			tr.selectors[orgTrail] = management()
			o, f, _ := trailOrch(nil)
			if c.trails {
				o.Trails = tr
			}
			if c.stack != nil {
				f.stacks["secrets"] = c.stack
				f.outputs["secrets"] = c.outs
			}
			// Only the secrets layer: its predecessors exist.
			for _, l := range []string{"network", "kms", "database"} {
				if _, err := f.Up(context.Background(), testLayers[map[string]int{"network": 0, "kms": 1, "database": 2}[l]], "", Config{}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := o.Up(context.Background(), "secrets"); err != nil {
				t.Fatal(err)
			}
			if tr.calls != 0 {
				t.Fatalf("%d CloudTrail calls", tr.calls)
			}
			if got := f.stacks["secrets"][existingKey].Value; got == orgTrail {
				t.Fatal("the account's trail was seeded")
			}
		})
	}
}

// A layer deployed with the account's trail keeps it when its config no
// longer names it (the key removed by hand): the trail comes back from its
// output, with no lookup, instead of the layer adding a trail of its own.
func TestADeployedLayerKeepsTheAccountsTrailWithoutItsConfigKey(t *testing.T) {
	tr := accountWith(orgTrail)
	tr.selectors[orgTrail] = management()
	o, f, out := trailOrch(tr)
	f.stacks["secrets"] = Config{"vault-secrets:environmentSuffix": {Value: "dev"}}
	f.outputs["secrets"] = Outputs{"trailArn": {Value: orgTrail}}
	for i := range 3 {
		if _, err := f.Up(context.Background(), testLayers[i], "", Config{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := o.Up(context.Background(), "secrets"); err != nil {
		t.Fatal(err)
	}
	if got := f.stacks["secrets"][existingKey].Value; got != orgTrail {
		t.Fatalf("existingTrailName = %q, want the deployed %s", got, orgTrail)
	}
	if tr.calls != 0 {
		t.Fatalf("%d CloudTrail calls for a layer whose trail is decided", tr.calls)
	}
	if want := "keeping the account's trail " + orgTrail; !strings.Contains(out.String(), want) {
		t.Fatalf("the output does not say %q:\n%s", want, out.String())
	}
}

// Another environment's own trail (trail-<suffix>, delivering to the
// secrets layer's bucket for it) is not the account's: it goes when that
// environment is destroyed. A trail of the account by any other name or
// bucket is taken.
func TestAnotherEnvironmentsTrailIsNotTheAccounts(t *testing.T) {
	const prodTrail = "arn:aws:cloudtrail:us-east-1:123456789012:trail/trail-prod"
	tr := accountWith(prodTrail)
	tr.selectors[prodTrail] = management()
	tr.trails[0].S3BucketName = aws.String("cloudtrail-us-east-1-prod-123456789012")
	o, f, _ := trailOrch(tr)
	if _, err := o.DeployAll(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if got := f.stacks["secrets"][existingKey].Value; got != "" {
		t.Fatalf("existingTrailName = %q, want none: the trail is another environment's", got)
	}
	tr = accountWith(prodTrail)
	tr.selectors[prodTrail] = management()
	tr.trails[0].S3BucketName = aws.String("org-audit-logs")
	o, f, _ = trailOrch(tr)
	if _, err := o.DeployAll(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if got := f.stacks["secrets"][existingKey].Value; got != prodTrail {
		t.Fatalf("existingTrailName = %q, want %s: a trail of the account that only shares the name's form", got, prodTrail)
	}
}
