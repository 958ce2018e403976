package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/stacks/kit"
)

// fakeRunner records every call and keeps a set of existing stacks with
// their config and outputs, like a backend would.
type fakeRunner struct {
	calls   []string                  // "op layer", in order
	stacks  map[string]Config         // layer name -> stored config
	outputs map[string]Outputs        // layer name -> outputs after up
	fail    map[string]error          // "op layer" -> error to return
	seen    map[string]map[string]any // layer -> config passed (values)
	// previewed holds the config each Preview was given.
	previewed []Config
	// steps are the plan Preview reports, by layer (none: "same 1").
	steps map[string][]Step
	// interrupted are the pending creates Preview and Destroy report, by layer.
	interrupted map[string][]PendingCreate
}

func newFake() *fakeRunner {
	return &fakeRunner{stacks: map[string]Config{}, outputs: map[string]Outputs{}, fail: map[string]error{}, seen: map[string]map[string]any{}, steps: map[string][]Step{}, interrupted: map[string][]PendingCreate{}}
}

func (f *fakeRunner) record(op string, l kit.Layer) error {
	f.calls = append(f.calls, op+" "+l.Name)
	return f.fail[op+" "+l.Name]
}

func (f *fakeRunner) Exists(_ context.Context, l kit.Layer, _ string) (bool, error) {
	if err := f.record("exists", l); err != nil {
		return false, err
	}
	_, ok := f.stacks[l.Name]
	return ok, nil
}

// Deployed: the stack exists and an up gave it resources (outputs), which
// a destroy removes.
func (f *fakeRunner) Deployed(_ context.Context, l kit.Layer, _ string) (bool, error) {
	if err := f.record("deployed", l); err != nil {
		return false, err
	}
	_, ok := f.stacks[l.Name]
	return ok && f.outputs[l.Name] != nil, nil
}

func (f *fakeRunner) Config(_ context.Context, l kit.Layer, _ string) (map[string]string, bool, error) {
	if err := f.record("config", l); err != nil {
		return nil, false, err
	}
	stored, ok := f.stacks[l.Name]
	if !ok {
		return nil, false, nil
	}
	values := map[string]string{}
	for k, v := range stored {
		values[k] = v.Value
	}
	return values, true, nil
}

// apply seeds the keys the stack lacks, as a backend keeps a stack's config.
func (f *fakeRunner) apply(l kit.Layer, cfg Config) {
	stored := f.stacks[l.Name]
	if stored == nil {
		stored = Config{}
	}
	for k, v := range cfg {
		if _, has := stored[k]; !has {
			stored[k] = v
		}
	}
	f.stacks[l.Name] = stored
}

func (f *fakeRunner) Up(_ context.Context, l kit.Layer, _ string, cfg Config) (Result, error) {
	if err := f.record("up", l); err != nil {
		return Result{}, err
	}
	f.apply(l, cfg)
	outs := Outputs{l.Name + "Id": {Value: "id-" + l.Name}}
	for _, k := range DefaultProvides[l.Name] {
		outs[k] = Output{Value: k + "-of-" + l.Name}
	}
	if l.Name == "secrets" {
		outs[SecretArnOutput] = Output{Value: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-credentials-dev-AbCdEf"}
	}
	if l.Name == "database" {
		// A secret output, as a stack may have: the summary must mask it.
		outs["connectionToken"] = Output{Value: "not-for-printing-123", Secret: true}
	}
	f.outputs[l.Name] = outs
	return Result{Changes: map[string]int{"create": 2}, Outputs: outs}, nil
}

func (f *fakeRunner) Preview(_ context.Context, l kit.Layer, _ string, cfg Config) (Result, error) {
	if err := f.record("preview", l); err != nil {
		return Result{}, err
	}
	f.previewed = append(f.previewed, cfg)
	if _, ok := f.stacks[l.Name]; !ok {
		f.stacks[l.Name] = Config{} // created, as `pulumi preview` needs a stack, with no config
	}
	if steps := f.steps[l.Name]; len(steps) > 0 {
		ch := map[string]int{}
		for _, s := range steps {
			ch[s.Op]++
		}
		return Result{Changes: ch, Steps: steps, Interrupted: f.interrupted[l.Name]}, nil
	}
	return Result{Changes: map[string]int{"same": 1}, Interrupted: f.interrupted[l.Name]}, nil
}

func (f *fakeRunner) Destroy(_ context.Context, l kit.Layer, _ string) (Result, error) {
	if err := f.record("destroy", l); err != nil {
		return Result{}, err
	}
	// The stack and its config stay, empty, as Auto's destroy (`pulumi
	// destroy`) leaves them.
	delete(f.outputs, l.Name)
	return Result{Changes: map[string]int{"delete": 2}, Interrupted: f.interrupted[l.Name]}, nil
}

// DestroyType deletes the rotator of the secrets layer (3 resources), once.
func (f *fakeRunner) DestroyType(_ context.Context, l kit.Layer, _, typ string) (int, error) {
	if err := f.record("destroytype", l); err != nil {
		return 0, err
	}
	if l.Name != "secrets" || typ != RotatorType || f.outputs[l.Name]["rotatorGone"].Value == true {
		return 0, nil
	}
	f.outputs[l.Name]["rotatorGone"] = Output{Value: true}
	return 3, nil
}

func (f *fakeRunner) Outputs(_ context.Context, l kit.Layer, _ string) (Outputs, error) {
	if err := f.record("outputs", l); err != nil {
		return nil, err
	}
	return f.outputs[l.Name], nil
}

// ops returns the recorded calls of one operation, as layer names.
func (f *fakeRunner) ops(op string) []string {
	var out []string
	for _, c := range f.calls {
		if o, layer, _ := strings.Cut(c, " "); o == op {
			out = append(out, layer)
		}
	}
	return out
}

var testLayers = []kit.Layer{
	{Name: "network", Project: kit.NetworkProject},
	{Name: "kms", Project: kit.KMSProject},
	{Name: "database", Project: kit.DatabaseProject},
	{Name: "secrets", Project: kit.SecretsProject},
}

func testEnv() Environment {
	return Environment{Name: "dev", Region: "us-east-1", Org: DefaultOrg,
		Tags: kit.Tags{Environment: "dev", CostCenter: "cc-1", Compliance: "soc2"}}
}

func newOrch(f *fakeRunner, out *bytes.Buffer) *Orchestrator {
	return &Orchestrator{
		Env: testEnv(), Layers: testLayers, Runner: f, Out: out,
		Confirm: func(context.Context, string) (bool, error) { return true, nil },
	}
}

// plans are the commands that plan a layer, by name: deployAll,
// up:<layer> and preview:<layer>.
func plans(o *Orchestrator, layer string) map[string]func() error {
	ctx := context.Background()
	return map[string]func() error{
		"deployAll":        func() error { _, err := o.DeployAll(ctx, ""); return err },
		"up:" + layer:      func() error { _, err := o.Up(ctx, layer); return err },
		"preview:" + layer: func() error { _, err := o.Preview(ctx, layer); return err },
	}
}

// upAll is a fake environment with every layer brought up by DeployAll.
func upAll(t *testing.T) (*fakeRunner, *Orchestrator) {
	t.Helper()
	f := newFake()
	o := newOrch(f, &bytes.Buffer{})
	if _, err := o.DeployAll(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	return f, o
}

func TestDeployAllRunsLayersInOrderAndPrintsSecretArnFirst(t *testing.T) {
	f := newFake()
	var out bytes.Buffer
	sum, err := newOrch(f, &out).DeployAll(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.ops("up"), []string{"network", "kms", "database", "secrets"}; !slices.Equal(got, want) {
		t.Fatalf("up order = %v, want %v", got, want)
	}
	if len(sum.Results) != 4 || sum.SecretARN == "" {
		t.Fatalf("summary = %+v", sum)
	}
	text := out.String()
	summary := text[strings.Index(text, "Environment dev deployed."):]
	lines := strings.Split(summary, "\n")
	if !strings.HasPrefix(strings.TrimSpace(lines[1]), "secretArn: arn:aws:secretsmanager:") {
		t.Fatalf("first summary line after the header is not the secret ARN:\n%s", summary)
	}
	if strings.Contains(text, "not-for-printing-123") {
		t.Fatal("a secret output was printed")
	}
	if !strings.Contains(summary, "connectionToken: [secret]") {
		t.Fatalf("secret output not masked in summary:\n%s", summary)
	}
	if last := lines[len(lines)-2]; lines[len(lines)-1] != "" || last != "Verify it (read-only, one PASS/FAIL line per check): ENV=dev go run mage.go verify" {
		t.Fatalf("the summary's last line is not the verify command:\n%s", summary)
	}
}

func TestLayerConfigPassesSuffixRegionTagsAndReferences(t *testing.T) {
	f := newFake()
	if _, err := newOrch(f, &bytes.Buffer{}).DeployAll(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"network": {
			"vault-network:environmentSuffix": "dev", "aws:region": "us-east-1",
			"vault-network:environment": "dev", "vault-network:costCenter": "cc-1", "vault-network:compliance": "soc2",
		},
		"kms": {
			"vault-kms:environmentSuffix": "dev", "aws:region": "us-east-1",
			"vault-kms:environment": "dev", "vault-kms:costCenter": "cc-1", "vault-kms:compliance": "soc2",
			"vault-kms:networkStack": "organization/vault-network/dev",
		},
		"database": {
			"vault-database:environmentSuffix": "dev", "aws:region": "us-east-1",
			"vault-database:environment": "dev", "vault-database:costCenter": "cc-1", "vault-database:compliance": "soc2",
			"vault-database:networkStack": "organization/vault-network/dev",
			"vault-database:kmsStack":     "organization/vault-kms/dev",
		},
		"secrets": {
			"vault-secrets:environmentSuffix": "dev", "aws:region": "us-east-1",
			"vault-secrets:environment": "dev", "vault-secrets:costCenter": "cc-1", "vault-secrets:compliance": "soc2",
			"vault-secrets:networkStack":  "organization/vault-network/dev",
			"vault-secrets:kmsStack":      "organization/vault-kms/dev",
			"vault-secrets:databaseStack": "organization/vault-database/dev",
		},
	}
	for layer, w := range want {
		got := map[string]string{}
		for k, v := range f.stacks[layer] {
			got[k] = v.Value
		}
		if !maps.Equal(got, w) {
			t.Errorf("%s config = %v\nwant %v", layer, got, w)
		}
	}
}

// No layer's configuration carries a password: RDS generates the master
// password, the rotator every application password.
func TestNoLayerGetsAPassword(t *testing.T) {
	f := newFake()
	if _, err := newOrch(f, &bytes.Buffer{}).DeployAll(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	for layer, cfg := range f.stacks {
		for k, v := range cfg {
			if v.Secret || strings.Contains(strings.ToLower(k), "password") {
				t.Errorf("%s: config %s (secret=%v)", layer, k, v.Secret)
			}
		}
	}
}

func TestDeployAllStopsAtFirstFailureNamingLayerAndResumeCommand(t *testing.T) {
	f := newFake()
	f.fail["up database"] = errors.New("creating cluster: boom")
	var out bytes.Buffer
	_, err := newOrch(f, &out).DeployAll(context.Background(), "")
	if err == nil {
		t.Fatal("want error")
	}
	if got := f.ops("up"); !slices.Equal(got, []string{"network", "kms", "database"}) {
		t.Fatalf("up calls = %v: secrets must not run after database failed", got)
	}
	msg := err.Error()
	for _, want := range []string{"layer database failed", "boom", "ENV=dev FROM=database go run mage.go deployAll"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	var le *LayerError
	if !errors.As(err, &le) || le.Layer != "database" {
		t.Fatalf("error is not a LayerError for database: %v", err)
	}
}

func TestDeployAllResumesFromLayer(t *testing.T) {
	f := newFake()
	f.fail["up database"] = errors.New("boom")
	o := newOrch(f, &bytes.Buffer{})
	if _, err := o.DeployAll(context.Background(), ""); err == nil {
		t.Fatal("want error")
	}
	delete(f.fail, "up database")
	f.calls = nil
	if _, err := o.DeployAll(context.Background(), "database"); err != nil {
		t.Fatal(err)
	}
	if got := f.ops("up"); !slices.Equal(got, []string{"database", "secrets"}) {
		t.Fatalf("resumed up calls = %v", got)
	}
}

func TestResumeRefusedWhenEarlierLayerMissing(t *testing.T) {
	f := newFake()
	_, err := newOrch(f, &bytes.Buffer{}).DeployAll(context.Background(), "database")
	if err == nil || !strings.Contains(err.Error(), "layer network") {
		t.Fatalf("err = %v, want refusal naming network", err)
	}
	if len(f.ops("up")) != 0 {
		t.Fatal("nothing may be deployed")
	}
}

func TestResumeFromUnknownLayer(t *testing.T) {
	_, err := newOrch(newFake(), &bytes.Buffer{}).DeployAll(context.Background(), "dns")
	if err == nil || !strings.Contains(err.Error(), `unknown layer "dns"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestDestroyAllReverseOrderSkipsAbsentLayers(t *testing.T) {
	f, o := upAll(t)
	delete(f.stacks, "database") // e.g. already destroyed by its team
	var out bytes.Buffer
	o.Out = &out
	if err := o.DestroyAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.ops("destroy"); !slices.Equal(got, []string{"secrets", "kms", "network"}) {
		t.Fatalf("destroy order = %v", got)
	}
	if !strings.Contains(out.String(), "database: stack organization/vault-database/dev does not exist; skipped") {
		t.Fatalf("no skip note:\n%s", out.String())
	}
}

func TestDestroyAllNeedsConfirmation(t *testing.T) {
	for name, confirm := range map[string]func(context.Context, string) (bool, error){
		"nil":     nil,
		"refused": func(context.Context, string) (bool, error) { return false, nil },
	} {
		t.Run(name, func(t *testing.T) {
			f, o := upAll(t)
			o.Confirm = confirm
			if err := o.DestroyAll(context.Background()); err == nil {
				t.Fatal("want error")
			}
			if len(f.ops("destroy")) != 0 {
				t.Fatal("destroyed without confirmation")
			}
		})
	}
}

func TestDestroyAllStopsAtFailure(t *testing.T) {
	f, o := upAll(t)
	f.fail["destroy database"] = errors.New("cluster busy")
	err := o.DestroyAll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "layer database failed (destroy)") {
		t.Fatalf("err = %v", err)
	}
	if got := f.ops("destroy"); !slices.Equal(got, []string{"secrets", "database"}) {
		t.Fatalf("destroy calls = %v: kms and network must stay", got)
	}
}

func TestDestroyLayerRefusedWhileLaterLayerExists(t *testing.T) {
	f, o := upAll(t)
	err := o.Destroy(context.Background(), "kms")
	if err == nil || !strings.Contains(err.Error(), "layer database") {
		t.Fatalf("err = %v", err)
	}
	if err := o.Destroy(context.Background(), "secrets"); err != nil {
		t.Fatal(err)
	}
	if got := f.ops("destroy"); !slices.Equal(got, []string{"secrets"}) {
		t.Fatalf("destroy calls = %v", got)
	}
	// The secrets stack stays, empty, after its destroy (as `pulumi
	// destroy` leaves it): the next layer's destroy goes ahead, as the
	// destroy workflow runs them one job after another.
	if err := o.Destroy(context.Background(), "database"); err != nil {
		t.Fatalf("destroy database after destroy secrets: %v", err)
	}
	if got := f.ops("destroy"); !slices.Equal(got, []string{"secrets", "database"}) {
		t.Fatalf("destroy calls = %v", got)
	}
}

func TestNothingRunsWithInvalidEnv(t *testing.T) {
	for _, env := range []string{"", "Dev", "dev_1", "-dev", "a--b", strings.Repeat("a", kit.MaxSuffixLen+1)} {
		f := newFake()
		o := newOrch(f, &bytes.Buffer{})
		o.Env.Name = env
		if _, err := o.DeployAll(context.Background(), ""); err == nil {
			t.Errorf("ENV=%q accepted", env)
		}
		if err := o.DestroyAll(context.Background()); err == nil {
			t.Errorf("ENV=%q accepted by destroyAll", env)
		}
		if len(f.calls) != 0 {
			t.Errorf("ENV=%q: runner called: %v", env, f.calls)
		}
	}
}

func TestEnvironmentFromEnv(t *testing.T) {
	get := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	e, err := EnvironmentFromEnv(get(map[string]string{"ENV": "pr-42"}))
	if err != nil {
		t.Fatal(err)
	}
	if e.Region != "us-east-1" || e.Tags.Environment != "pr-42" || e.Tags.CostCenter != kit.DefaultCostCenter ||
		e.Tags.Compliance != kit.DefaultCompliance || e.Org != DefaultOrg {
		t.Fatalf("defaults = %+v", e)
	}
	e, err = EnvironmentFromEnv(get(map[string]string{"ENV": "prod", "AWS_REGION": "eu-west-1",
		"TAG_ENVIRONMENT": "production", "TAG_COST_CENTER": "cc-9", "TAG_COMPLIANCE": "pci"}))
	if err != nil {
		t.Fatal(err)
	}
	if e.Region != "eu-west-1" || e.Tags != (kit.Tags{Environment: "production", CostCenter: "cc-9", Compliance: "pci"}) {
		t.Fatalf("overrides = %+v", e)
	}
	// AWS_DEFAULT_REGION when AWS_REGION is unset, as the AWS SDKs and the
	// preflight take it: a new environment's region, which the stacks'
	// region still wins over (not FromEnv).
	e, err = EnvironmentFromEnv(get(map[string]string{"ENV": "dev", "AWS_DEFAULT_REGION": "eu-west-1"}))
	if err != nil || e.Region != "eu-west-1" || e.FromEnv[VarRegion] {
		t.Fatalf("AWS_DEFAULT_REGION alone = %+v, %v", e, err)
	}
	e, err = EnvironmentFromEnv(get(map[string]string{"ENV": "dev", "AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "eu-west-1"}))
	if err != nil || e.Region != "us-west-2" {
		t.Fatalf("AWS_REGION beside AWS_DEFAULT_REGION = %+v, %v", e, err)
	}
	for _, bad := range []map[string]string{{}, {"ENV": "UPPER"}, {"ENV": "dev", "AWS_REGION": "mars"}, {"ENV": "dev", "AWS_DEFAULT_REGION": "mars"}} {
		if _, err := EnvironmentFromEnv(get(bad)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if _, err := EnvironmentFromEnv(get(map[string]string{})); !strings.Contains(err.Error(), "ENV is not set") {
		t.Errorf("missing ENV error = %v", err)
	}
}

func TestPreviewAllInOrderAndUnknownLayer(t *testing.T) {
	f, o := upAll(t)
	f.calls = nil
	if _, err := o.PreviewAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.ops("preview"); !slices.Equal(got, []string{"network", "kms", "database", "secrets"}) {
		t.Fatalf("preview order = %v", got)
	}
	if len(f.ops("up")) != 0 {
		t.Fatal("preview deployed")
	}
	if _, err := o.Up(context.Background(), "nope"); err == nil {
		t.Fatal("unknown layer accepted")
	}
}

func TestOutputsOfMissingStack(t *testing.T) {
	_, err := newOrch(newFake(), &bytes.Buffer{}).Outputs(context.Background(), "secrets")
	if err == nil || !strings.Contains(err.Error(), "go run mage.go up:secrets") {
		t.Fatalf("err = %v", err)
	}
}

func TestConfirmFromEnv(t *testing.T) {
	get := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	ctx := context.Background()
	for _, m := range []map[string]string{{"CI": "true"}, {"CONFIRM": "yes"}} {
		c := ConfirmFromEnv(get(m), "dev", false, strings.NewReader(""), &bytes.Buffer{})
		if ok, _ := c(ctx, "?"); !ok {
			t.Errorf("%v: not confirmed", m)
		}
	}
	if c := ConfirmFromEnv(get(nil), "dev", false, strings.NewReader(""), &bytes.Buffer{}); c != nil {
		t.Error("no terminal and no CONFIRM must refuse (nil)")
	}
	var prompt bytes.Buffer
	c := ConfirmFromEnv(get(nil), "dev", true, strings.NewReader("dev\n"), &prompt)
	if ok, err := c(ctx, "Destroy?"); !ok || err != nil {
		t.Errorf("typed name not accepted: %v %v", ok, err)
	}
	if !strings.Contains(prompt.String(), "Type the environment name (dev)") {
		t.Errorf("prompt = %q", prompt.String())
	}
	c = ConfirmFromEnv(get(nil), "dev", true, strings.NewReader("yes\n"), &bytes.Buffer{})
	if ok, _ := c(ctx, "Destroy?"); ok {
		t.Error("anything but the environment name must refuse")
	}
}

func TestShortKeepsHeadAndStderrTail(t *testing.T) {
	var stderr []string
	for i := range 12 {
		stderr = append(stderr, fmt.Sprintf("line %d", i))
	}
	long := errors.New("failed to run update: exit status 255\ncode: 255\nstdout: lots of progress\nstderr: " + strings.Join(stderr, "\n"))
	got := short(long).Error()
	if !strings.HasPrefix(got, "failed to run update: exit status 255\n") || strings.Contains(got, "progress") ||
		strings.Contains(got, "line 3\n") || !strings.HasSuffix(got, "line 11") {
		t.Fatalf("short = %q", got)
	}
	if plain := errors.New("plain"); short(plain) != plain {
		t.Fatal("an error without CLI output must pass unchanged")
	}
}
