package deploy

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"
)

const clusterURN = "urn:pulumi:dev::vault-database::aws:rds/cluster:Cluster::aurora"

// deployed is a fake environment with every layer up, and the questions
// the orchestrator asks recorded.
func deployed(t *testing.T) (*fakeRunner, *Orchestrator, *[]string, *bytes.Buffer) {
	t.Helper()
	f, o := upAll(t)
	var out bytes.Buffer
	o.Out = &out
	var asked []string
	o.Confirm = func(_ context.Context, prompt string) (bool, error) {
		asked = append(asked, prompt)
		return true, nil
	}
	f.calls = nil
	return f, o, &asked, &out
}

// A plan that replaces the cluster is refused, with or without
// confirmation (CI=true answers yes), unless ALLOW_REPLACE names it.
func TestReplacingAStatefulResourceIsRefused(t *testing.T) {
	f, o, asked, out := deployed(t)
	f.steps["database"] = []Step{
		{URN: clusterURN, Type: "aws:rds/cluster:Cluster", Op: "create-replacement"},
		{URN: clusterURN, Type: "aws:rds/cluster:Cluster", Op: "replace"},
		{URN: "urn:pulumi:dev::vault-database::aws:rds/clusterParameterGroup:ClusterParameterGroup::params", Type: "aws:rds/clusterParameterGroup:ClusterParameterGroup", Op: "update"},
	}
	for name, run := range plans(o, "database") {
		if strings.HasPrefix(name, "preview:") {
			continue // a preview shows a replacement; up refuses it
		}
		err := run()
		var re *ReplaceRefusedError
		if !errors.As(err, &re) || re.Layer != "database" || len(re.Steps) != 1 {
			t.Fatalf("%s: err = %v, want the cluster's replacement refused", name, err)
		}
		if !strings.Contains(err.Error(), "ALLOW_REPLACE=aurora") || !strings.Contains(err.Error(), clusterURN) {
			t.Errorf("%s: error does not say how to allow it: %v", name, err)
		}
		if ups := f.ops("up"); len(ups) != 0 {
			t.Fatalf("%s: up ran for %v", name, ups)
		}
		if len(*asked) != 0 {
			t.Fatalf("%s: asked %q before refusing", name, *asked)
		}
	}
	if !strings.Contains(out.String(), "replace") || !strings.Contains(out.String(), "aurora (aws:rds/cluster:Cluster)") {
		t.Errorf("the plan was not printed:\n%s", out.String())
	}
	for _, allow := range []string{"aurora", clusterURN} {
		o.AllowReplace = ParseAllowReplace("other, " + allow)
		f.calls = nil
		if _, err := o.Up(context.Background(), "database"); err != nil {
			t.Fatalf("ALLOW_REPLACE=%s: %v", allow, err)
		}
		if got := f.ops("up"); !slices.Equal(got, []string{"database"}) {
			t.Fatalf("ALLOW_REPLACE=%s: up calls %v", allow, got)
		}
	}
}

// Deleting a key is refused like replacing one; replacing a security group
// (no data) only needs the confirmation.
func TestOnlyStatefulDestructionIsRefused(t *testing.T) {
	f, o, asked, _ := deployed(t)
	f.steps["kms"] = []Step{{URN: "urn:pulumi:dev::vault-kms::aws:kms/key:Key::secrets", Type: "aws:kms/key:Key", Op: "delete"}}
	if _, err := o.Up(context.Background(), "kms"); err == nil || !strings.Contains(err.Error(), "delete secrets") {
		t.Fatalf("deleting a key: %v", err)
	}
	f.steps["kms"] = nil
	f.steps["network"] = []Step{{URN: "urn:pulumi:dev::vault-network::aws:ec2/securityGroup:SecurityGroup::rotator", Type: "aws:ec2/securityGroup:SecurityGroup", Op: "replace"}}
	if _, err := o.Up(context.Background(), "network"); err != nil {
		t.Fatal(err)
	}
	if len(*asked) != 1 {
		t.Fatalf("asked %d times, want once", len(*asked))
	}
}

// deployAll shows every plan it can compute, then asks once; on a fresh
// environment the later plans follow, each before its up, without a
// second question. No confirmation (not a terminal, no CONFIRM): nothing.
func TestDeployAllShowsThePlansAndAsksOnce(t *testing.T) {
	f := newFake()
	var out bytes.Buffer
	o := newOrch(f, &out)
	var asked []string
	o.Confirm = func(_ context.Context, prompt string) (bool, error) {
		asked = append(asked, prompt)
		if f.ops("up") != nil {
			t.Error("asked after an up")
		}
		return true, nil
	}
	f.steps["network"] = []Step{{URN: "urn:pulumi:dev::vault-network::aws:ec2/vpc:Vpc::vpc", Type: "aws:ec2/vpc:Vpc", Op: "create"}}
	if _, err := o.DeployAll(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || !strings.Contains(asked[0], "kms, database, secrets are computed once the layers before them are up") {
		t.Fatalf("asked %q", asked)
	}
	text := out.String()
	if !strings.Contains(text, "create") || strings.Index(text, "vpc (aws:ec2/vpc:Vpc)") > strings.Index(text, "==> network: up") {
		t.Errorf("network's plan not shown before its up:\n%s", text)
	}
	if got := f.ops("preview"); !slices.Equal(got, []string{"network", "kms", "database", "secrets"}) {
		t.Errorf("previews %v", got)
	}

	// With every layer up, every plan is computed before the one question.
	asked = nil
	f.calls = nil
	f.steps["secrets"] = []Step{{URN: "urn:pulumi:dev::vault-secrets::aws:lambda/function:Function::rotator", Type: "aws:lambda/function:Function", Op: "update"}}
	if _, err := o.DeployAll(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	firstUp := slices.IndexFunc(f.calls, func(c string) bool { return strings.HasPrefix(c, "up ") })
	var before []string
	for _, c := range f.calls[:firstUp] {
		if strings.HasPrefix(c, "preview ") {
			before = append(before, c)
		}
	}
	if !slices.Equal(before, []string{"preview network", "preview kms", "preview database", "preview secrets"}) || len(asked) != 1 {
		t.Errorf("previews before the first up %v, asked %d", before, len(asked))
	}

	o.Confirm = nil
	f.calls = nil
	if _, err := o.DeployAll(context.Background(), ""); err == nil || !strings.Contains(err.Error(), "CONFIRM=yes") {
		t.Fatalf("no confirmation: %v", err)
	}
	if len(f.ops("up")) != 0 {
		t.Fatal("deployed without confirmation")
	}
	delete(f.steps, "network")
	delete(f.steps, "secrets")
	if _, err := o.DeployAll(context.Background(), ""); err != nil {
		t.Fatalf("a plan without changes needs no question: %v", err)
	}
}

func TestPlansGoToTheStepSummary(t *testing.T) {
	f, o, _, _ := deployed(t)
	var md bytes.Buffer
	o.PlanOut = &md
	f.steps["kms"] = []Step{{URN: "urn:pulumi:dev::vault-kms::aws:kms/alias:Alias::secrets", Type: "aws:kms/alias:Alias", Op: "update"}}
	if _, err := o.Preview(context.Background(), "kms"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### Plan of kms (stack `organization/vault-kms/dev`)", "| update | `secrets` | `aws:kms/alias:Alias` |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, md.String())
		}
	}
}

// fakeNames answers as EventBridge and CloudWatch do for the names in
// rules (<bus>/<name> on a bus other than the default), alarms, composites
// and log alarms; every call is recorded with its region.
type fakeNames struct {
	rules, alarms, composites, logAlarms []string
	refuse                               error
	calls                                []string // "region name"
}

func (f *fakeNames) region(opts []func(*eventbridge.Options)) string {
	var o eventbridge.Options
	for _, fn := range opts {
		fn(&o)
	}
	return o.Region
}

func (f *fakeNames) DescribeRule(_ context.Context, in *eventbridge.DescribeRuleInput, opts ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error) {
	id := aws.ToString(in.Name)
	if in.EventBusName != nil {
		id = aws.ToString(in.EventBusName) + "/" + id
	}
	f.calls = append(f.calls, f.region(opts)+" "+id)
	if f.refuse != nil {
		return nil, f.refuse
	}
	if !slices.Contains(f.rules, id) {
		return nil, &ebtypes.ResourceNotFoundException{Message: aws.String("Rule does not exist.")}
	}
	return &eventbridge.DescribeRuleOutput{Name: in.Name}, nil
}

// DescribeAlarms returns composite and log alarms only when asked for
// them, as CloudWatch does ("If you omit this parameter, only metric alarms
// are returned").
func (f *fakeNames) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	var o cloudwatch.Options
	for _, fn := range opts {
		fn(&o)
	}
	out := &cloudwatch.DescribeAlarmsOutput{}
	for _, name := range in.AlarmNames {
		f.calls = append(f.calls, o.Region+" "+name)
		if slices.Contains(f.alarms, name) && (len(in.AlarmTypes) == 0 || slices.Contains(in.AlarmTypes, cwtypes.AlarmTypeMetricAlarm)) {
			out.MetricAlarms = append(out.MetricAlarms, cwtypes.MetricAlarm{AlarmName: aws.String(name)})
		}
		if slices.Contains(f.composites, name) && slices.Contains(in.AlarmTypes, cwtypes.AlarmTypeCompositeAlarm) {
			out.CompositeAlarms = append(out.CompositeAlarms, cwtypes.CompositeAlarm{AlarmName: aws.String(name)})
		}
		if slices.Contains(f.logAlarms, name) && slices.Contains(in.AlarmTypes, cwtypes.AlarmTypeLogAlarm) {
			out.LogAlarms = append(out.LogAlarms, cwtypes.LogAlarm{AlarmName: aws.String(name)})
		}
	}
	return out, nil
}

func secretsStep(typ, logical, op, named string) Step {
	return Step{URN: "urn:pulumi:dev::vault-secrets::" + typ + "::" + logical, Type: typ, Op: op, Named: named}
}

// A plan that creates a rule or an alarm under a name the account uses
// already is refused, by preview too, before the question and before any
// up; the refusal names each one. Steps without a name to look up (stepOf
// gives none to updates and other types) and free names are not refused.
func TestCreatingOverANamesakeIsRefused(t *testing.T) {
	// An environment deployed in eu-west-1, whose secrets stack says
	// eu-central-1: the layer's own region is where its names are.
	f := newFake()
	o := newOrch(f, &bytes.Buffer{})
	o.Env.Region = "eu-west-1"
	if _, err := o.DeployAll(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	f.stacks["secrets"]["aws:region"] = ConfigValue{Value: "eu-central-1"}
	o.Env.Region = "us-east-1"
	f.calls = nil
	var asked []string
	o.Confirm = func(_ context.Context, prompt string) (bool, error) {
		asked = append(asked, prompt)
		return true, nil
	}
	names := &fakeNames{rules: []string{"secret-changes-dev", "rotation-failed-dev"}, alarms: []string{"rotator-errors-dev"},
		composites: []string{"vault-health-dev"}, logAlarms: []string{"vault-logs-dev"}}
	o.Names = &NameLookup{Rules: names, Alarms: names}
	f.steps["secrets"] = []Step{
		secretsStep(ruleType, "secret-changes", "create", "secret-changes-dev"),
		secretsStep(ruleType, "rotation-failed", "update", ""),                                                                                     // the layer's own rule
		secretsStep(ruleType, "rotator-changes", "create", "rotator-changes-dev"),                                                                  // free
		{URN: "urn:pulumi:dev::vault-secrets::" + ruleType + "::orders", Type: ruleType, Op: "create", Named: "secret-changes-dev", Bus: "orders"}, // free on its bus
		secretsStep(alarmType, "rotator-errors", "create", "rotator-errors-dev"),
		secretsStep(alarmType, "health", "create-replacement", "vault-health-dev"), // renamed onto a composite's name
		secretsStep(alarmType, "logs", "create", "vault-logs-dev"),                 // a log alarm's name
		secretsStep("aws:cloudwatch/logGroup:LogGroup", "rotator-logs", "create", ""),
	}
	for name, run := range plans(o, "secrets") {
		names.calls = nil
		err := run()
		var taken *NameTakenError
		if !errors.As(err, &taken) || taken.Layer != "secrets" {
			t.Fatalf("%s: err = %v, want the namesakes refused", name, err)
		}
		var got []string
		for _, s := range taken.Steps {
			got = append(got, s.Named)
		}
		if want := []string{"rotator-errors-dev", "secret-changes-dev", "vault-health-dev", "vault-logs-dev"}; !slices.Equal(got, want) {
			t.Errorf("%s: refused %v, want %v", name, got, want)
		}
		for _, want := range []string{`"secret-changes-dev" exists already`, "ENV", "destroying the layer would delete it"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error lacks %q: %v", name, want, err)
			}
		}
		if want := []string{"eu-central-1 secret-changes-dev", "eu-central-1 rotator-changes-dev", "eu-central-1 orders/secret-changes-dev", "eu-central-1 rotator-errors-dev", "eu-central-1 vault-health-dev", "eu-central-1 vault-logs-dev"}; !slices.Equal(names.calls, want) {
			t.Errorf("%s: looked up %v, want %v (named steps only, in the layer's region)", name, names.calls, want)
		}
		if ups := f.ops("up"); len(ups) != 0 {
			t.Fatalf("%s: up ran for %v", name, ups)
		}
		if len(asked) != 0 {
			t.Fatalf("%s: asked %q before refusing", name, asked)
		}
	}

	// Once the names are free, the same plan goes ahead.
	names.rules, names.alarms, names.composites, names.logAlarms = nil, nil, nil, nil
	if _, err := o.Up(context.Background(), "secrets"); err != nil {
		t.Fatal(err)
	}
	if got := f.ops("up"); !slices.Equal(got, []string{"secrets"}) {
		t.Fatalf("up calls %v", got)
	}
}

// A lookup AWS refuses stops the deploy, naming the permissions to grant;
// nothing is deployed on a guess.
func TestNameLookupRefusedStopsTheDeploy(t *testing.T) {
	f, o, _, _ := deployed(t)
	names := &fakeNames{refuse: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: events:DescribeRule"}}
	o.Names = &NameLookup{Rules: names, Alarms: names}
	f.steps["secrets"] = []Step{secretsStep(ruleType, "secret-changes", "create", "secret-changes-dev")}
	_, err := o.Up(context.Background(), "secrets")
	if err == nil || !strings.Contains(err.Error(), "events:DescribeRule, cloudwatch:DescribeAlarms") || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("err = %v, want the refusal with the permissions to grant", err)
	}
	if ups := f.ops("up"); len(ups) != 0 {
		t.Fatalf("up ran for %v", ups)
	}
}

// On a new environment the secrets layer's plan comes once the layers
// before it are up: a name in use stops deployAll there, before anything
// of the secrets layer is created, and says how to resume.
func TestNewEnvironmentStopsAtTheLayerWithTheNamesake(t *testing.T) {
	f := newFake()
	o := newOrch(f, &bytes.Buffer{})
	names := &fakeNames{rules: []string{"secret-changes-dev"}}
	o.Names = &NameLookup{Rules: names, Alarms: names}
	f.steps["secrets"] = []Step{secretsStep(ruleType, "secret-changes", "create", "secret-changes-dev")}
	_, err := o.DeployAll(context.Background(), "")
	var taken *NameTakenError
	var le *LayerError
	if !errors.As(err, &taken) || !errors.As(err, &le) || le.Layer != "secrets" {
		t.Fatalf("err = %v, want the secrets layer's plan refused", err)
	}
	if !strings.Contains(err.Error(), "nothing in layer secrets was changed") || !strings.Contains(err.Error(), "ENV=dev FROM=secrets go run mage.go deployAll") {
		t.Errorf("error does not say what changed and how to resume: %v", err)
	}
	if got := f.ops("up"); !slices.Equal(got, []string{"network", "kms", "database"}) {
		t.Fatalf("up calls %v, want the three layers before secrets", got)
	}
}

// A create whose name the plan does not show cannot be looked up: it is
// refused, and the refusal says why.
func TestUnknownNameIsRefused(t *testing.T) {
	f, o, _, _ := deployed(t)
	names := &fakeNames{}
	o.Names = &NameLookup{Rules: names, Alarms: names}
	unknown := secretsStep(ruleType, "secret-changes", "create", "")
	unknown.NameUnknown = true
	f.steps["secrets"] = []Step{unknown}
	_, err := o.Up(context.Background(), "secrets")
	var taken *NameTakenError
	if !errors.As(err, &taken) || len(taken.Unknown) != 1 || !strings.Contains(err.Error(), "secret-changes: its name is not known before the deploy") {
		t.Fatalf("err = %v, want the unknown name refused", err)
	}
	if strings.Contains(err.Error(), "take over") || strings.Contains(err.Error(), "overwriting a namesake") {
		t.Errorf("the refusal of an unknown name claims a namesake: %v", err)
	}
	if len(names.calls) != 0 || len(f.ops("up")) != 0 {
		t.Fatalf("looked up %v, up ran for %v", names.calls, f.ops("up"))
	}
}

// stepOf reads the name a step gives from the engine's event: only
// creates, and replacements under another name, of NameInputs' types; an
// unknown or secret name is marked, never guessed.
func TestStepOf(t *testing.T) {
	state := func(name any) *apitype.StepEventStateMetadata {
		return &apitype.StepEventStateMetadata{Inputs: map[string]any{"name": name}}
	}
	onBus := func(name, bus any) *apitype.StepEventStateMetadata {
		return &apitype.StepEventStateMetadata{Inputs: map[string]any{"name": name, "eventBusName": bus}}
	}
	blinded := map[string]any{sig.Key: sig.Secret, "ciphertext": "AAAA"}
	for _, c := range []struct {
		what    string
		m       apitype.StepEventMetadata
		named   string
		bus     string
		unknown bool
	}{
		{"create", apitype.StepEventMetadata{Op: "create", Type: ruleType, New: state("secret-changes-dev")}, "secret-changes-dev", "", false},
		{"alarm create", apitype.StepEventMetadata{Op: "create", Type: alarmType, New: state("rotator-errors-dev")}, "rotator-errors-dev", "", false},
		{"update", apitype.StepEventMetadata{Op: "update", Type: ruleType, Old: state("r"), New: state("r")}, "", "", false},
		{"same", apitype.StepEventMetadata{Op: "same", Type: ruleType, Old: state("r"), New: state("r")}, "", "", false},
		{"replacement, same name", apitype.StepEventMetadata{Op: "create-replacement", Type: ruleType, Old: state("r"), New: state("r")}, "", "", false},
		{"replacement, new name", apitype.StepEventMetadata{Op: "create-replacement", Type: ruleType, Old: state("r"), New: state("orders-r")}, "orders-r", "", false},
		{"other type", apitype.StepEventMetadata{Op: "create", Type: "aws:cloudwatch/logGroup:LogGroup", New: state("lg")}, "", "", false},
		{"unknown", apitype.StepEventMetadata{Op: "create", Type: ruleType, New: state(sig.UnknownStringValue)}, "", "", true},
		{"secret shown", apitype.StepEventMetadata{Op: "create", Type: ruleType, New: state("[secret]")}, "", "", true},
		{"secret blinded", apitype.StepEventMetadata{Op: "create", Type: ruleType, New: state(blinded)}, "", "", true},
		{"absent", apitype.StepEventMetadata{Op: "create", Type: alarmType, New: &apitype.StepEventStateMetadata{}}, "", "", true},
		{"default bus", apitype.StepEventMetadata{Op: "create", Type: ruleType, New: onBus("r", "default")}, "r", "", false},
		{"another bus", apitype.StepEventMetadata{Op: "create", Type: ruleType, New: onBus("r", "orders")}, "r", "orders", false},
		{"moved to another bus", apitype.StepEventMetadata{Op: "create-replacement", Type: ruleType, Old: state("r"), New: onBus("r", "orders")}, "r", "orders", false},
		{"replacement on its bus", apitype.StepEventMetadata{Op: "create-replacement", Type: ruleType, Old: onBus("r", "orders"), New: onBus("r", "orders")}, "", "", false},
		{"unknown bus", apitype.StepEventMetadata{Op: "create", Type: ruleType, New: onBus("r", sig.UnknownStringValue)}, "", "", true},
	} {
		s := stepOf(c.m)
		if s.Named != c.named || s.Bus != c.bus || s.NameUnknown != c.unknown || s.Op != string(c.m.Op) || s.Type != c.m.Type {
			t.Errorf("%s: step %+v, want Named %q, Bus %q, NameUnknown %v", c.what, s, c.named, c.bus, c.unknown)
		}
	}
}
