package rehearse

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudtrail"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/dbvault/dbvault/ops/deploy"
	"github.com/dbvault/dbvault/ops/rehearse/tools"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/tools/workspace"
)

// The tests run small layers through the real engine; they need the pinned
// CLI, which they build (once per machine) or reuse exactly like `mage
// rehearse`. They never skip: CI builds the CLI in its rehearse step first.
var built struct {
	once             sync.Once
	cliRoot, standin string
	err              error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.standin != "" {
		_ = os.RemoveAll(built.standin) // the test binary's own stand-in build
	}
	os.Exit(code)
}

func ensureTools(t *testing.T) (string, string) {
	t.Helper()
	built.once.Do(func() {
		root, err := workspace.Root()
		if err != nil {
			built.err = err
			return
		}
		var log bytes.Buffer
		if built.cliRoot, built.err = tools.EnsureCLI(context.Background(), root, &log); built.err != nil {
			built.err = errorsWithLog(built.err, &log)
			return
		}
		dir, err := os.MkdirTemp("", "standin-*")
		if err != nil {
			built.err = err
			return
		}
		if built.standin, built.err = tools.BuildStandin(context.Background(), root, dir, &log); built.err != nil {
			built.err = errorsWithLog(built.err, &log)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.cliRoot, built.standin
}

// wantIn reports each of wants that text, which what names, lacks.
func wantIn(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func errorsWithLog(err error, log *bytes.Buffer) error {
	return &buildError{err: err, log: log.String()}
}

type buildError struct {
	err error
	log string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.log }

const baseProject, netProject = "rehearse-test-base", "rehearse-test-net"

// baseLayer registers a VPC tagged with tag() and exports its ID and a
// secret.
func baseLayer(tag func() string) kit.Layer {
	return kit.Layer{Name: "base", Project: baseProject, Run: func(ctx *pulumi.Context) (pulumi.Map, error) {
		vpc, err := ec2.NewVpc(ctx, "vpc", &ec2.VpcArgs{
			CidrBlock: pulumi.String("10.0.0.0/16"),
			Tags:      pulumi.StringMap{"Build": pulumi.String(tag())},
		})
		if err != nil {
			return nil, err
		}
		return pulumi.Map{
			"vpcId": vpc.ID().ToStringOutput(),
			"token": pulumi.ToSecret(pulumi.String("token-that-must-stay-encrypted")),
		}, nil
	}}
}

// netLayer references base and puts a subnet into the VPC that base's
// output named vpcOutput designates.
func netLayer(vpcOutput string) kit.Layer {
	return kit.Layer{Name: "net", Project: netProject, Run: func(ctx *pulumi.Context) (pulumi.Map, error) {
		base, err := kit.NewRef(ctx, "baseStack", baseProject)
		if err != nil {
			return nil, err
		}
		subnet, err := ec2.NewSubnet(ctx, "subnet", &ec2.SubnetArgs{
			VpcId:     base.String(vpcOutput),
			CidrBlock: pulumi.String("10.0.1.0/24"),
		})
		if err != nil {
			return nil, err
		}
		return pulumi.Map{"subnetId": subnet.ID().ToStringOutput(), "token": base.String("token")}, nil
	}}
}

func fixed() string { return "v1" }

// netWiring checks that net's subnet sits in base's VPC.
var netWiring = []Wiring{{Layer: "net", Type: "aws:ec2/subnet:Subnet", Input: "vpcId", From: "base", Output: "vpcId"}}

// rehearse runs layers (base and net) through the rehearsal, destroying
// with destroy (nil: destroyAll).
func rehearse(t *testing.T, layers []kit.Layer, destroy func(context.Context, *deploy.Orchestrator) error) (Report, string, error) {
	t.Helper()
	return rehearseWith(t, Options{Layers: layers, Destroy: destroy, Wiring: netWiring})
}

// rehearseWith runs a rehearsal of opts with the tools, a scratch directory
// and the environment filled in.
func rehearseWith(t *testing.T, opts Options) (Report, string, error) {
	t.Helper()
	var out bytes.Buffer
	opts.CLIRoot, opts.StandinDir = ensureTools(t)
	opts.Env = deploy.Environment{Name: "rehearsal", Region: "eu-west-1", Tags: kit.Tags{Environment: "rehearsal", CostCenter: "cc", Compliance: "soc2"}}
	opts.Dir = t.TempDir()
	opts.Out = &out
	rep, err := Run(context.Background(), opts)
	t.Log(out.String())
	return rep, out.String(), err
}

func TestRehearsalOfConsistentLayersPasses(t *testing.T) {
	t.Parallel()
	rep, out, err := rehearse(t, []kit.Layer{baseLayer(fixed), netLayer("vpcId")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Layers) != 2 || rep.Layers[0].Resources != 1 || rep.Layers[1].Resources != 1 {
		t.Fatalf("report %+v, want base and net with one AWS resource each", rep.Layers)
	}
	wantIn(t, "output", out,
		"net -> base: reference resolved",
		"net aws:ec2/subnet:Subnet.vpcId = base.vpcId",
		"secret output(s) encrypted",
		"rehearsal passed",
	)
}

func TestRehearsalFailsWhenALayerLacksAnOutputTheNextReads(t *testing.T) {
	t.Parallel()
	_, out, err := rehearse(t, []kit.Layer{baseLayer(fixed), netLayer("vpcIdentifier")}, nil)
	if err == nil {
		t.Fatal("rehearsal passed although net reads an output base does not export")
	}
	wantIn(t, fmt.Sprintf("error %q", err), err.Error(), "layer net failed", "has no output vpcIdentifier")
	if !strings.Contains(out, "rehearsal FAILED") {
		t.Error("no failure summary printed")
	}
}

func TestRehearsalFailsWhenASecondDeployChangesAResource(t *testing.T) {
	t.Parallel()
	n := 0
	build := func() string { n++; return strconv.Itoa(n) } // a new value on every run of the program
	_, out, err := rehearse(t, []kit.Layer{baseLayer(build), netLayer("vpcId")}, nil)
	if err == nil {
		t.Fatal("rehearsal passed although the second deploy updated base's VPC")
	}
	// The program runs for each preview too (every up previews first), so
	// the values are whatever runs came before.
	if !strings.Contains(err.Error(), "deployAll #2 changed layer base (update 1)") ||
		!regexp.MustCompile(`~ vpc: tags: \{"Build":"\d+"\} -> \{"Build":"\d+"\}`).MatchString(err.Error()) {
		t.Errorf("error %q does not name the VPC's changed tags", err)
	}
	if !strings.Contains(out, "changes on 2nd run") {
		t.Error("no summary table printed")
	}
}

func TestRehearsalFailsWhenDestroyOrderIsWrong(t *testing.T) {
	t.Parallel()
	forward := func(ctx context.Context, o *deploy.Orchestrator) error {
		for _, l := range o.Layers { // deploy order: base goes while net still uses its VPC
			if _, err := o.Runner.Destroy(ctx, l, o.Env.Name); err != nil {
				return err
			}
		}
		return nil
	}
	_, _, err := rehearse(t, []kit.Layer{baseLayer(fixed), netLayer("vpcId")}, forward)
	if err == nil {
		t.Fatal("rehearsal passed although base was destroyed before net")
	}
	wantIn(t, fmt.Sprintf("error %q", err), err.Error(), "layer base destroyed while layer net still references it", "DependencyViolation")
}

// passwordLayer keeps a database password the way the vault must never:
// as the value of a secret version that Pulumi creates (a Pulumi secret in
// its state), or, with inConfig, also as the stack's secret config value.
func passwordLayer(inConfig bool) kit.Layer {
	return kit.Layer{Name: "database", Project: "rehearse-test-db", Run: func(ctx *pulumi.Context) (pulumi.Map, error) {
		pw := pulumi.ToSecret(pulumi.String("Not-a-real-pw-1")).(pulumi.StringOutput)
		if inConfig {
			pw = config.RequireSecret(ctx, "masterPassword")
		}
		secret, err := secretsmanager.NewSecret(ctx, "credentials", &secretsmanager.SecretArgs{Name: pulumi.String("credentials-rehearsal")})
		if err != nil {
			return nil, err
		}
		_, err = secretsmanager.NewSecretVersion(ctx, "credentials-v1", &secretsmanager.SecretVersionArgs{
			SecretId: secret.ID(),
			SecretString: pw.ApplyT(func(p string) string {
				return `{"username":"app","password":"` + p + `"}`
			}).(pulumi.StringOutput),
		})
		if err != nil {
			return nil, err
		}
		return pulumi.Map{"secretArn": secret.Arn}, nil
	}}
}

func TestRehearsalFailsWhenAStateHoldsAPassword(t *testing.T) {
	t.Parallel()
	_, out, err := rehearseWith(t, Options{Layers: []kit.Layer{passwordLayer(false)}})
	if err == nil {
		t.Fatal("rehearsal passed although a secret version in the state holds a password")
	}
	if !strings.Contains(err.Error(), "credentials-v1 has a password at input .secretString(json).password") {
		t.Errorf("error %q does not name the version and the key", err)
	}
	if strings.Contains(err.Error()+out, "Not-a-real-pw-1") {
		t.Error("the rehearsal printed the password")
	}
}

func TestRehearsalFailsWhenAConfigFileHoldsAPassword(t *testing.T) {
	t.Parallel()
	_, _, err := rehearseWith(t, Options{Layers: []kit.Layer{passwordLayer(true)}, Config: map[string]deploy.Config{
		"database": {"rehearse-test-db:masterPassword": {Value: "Not-a-real-pw-2", Secret: true}},
	}})
	if err == nil {
		t.Fatal("rehearsal passed although the stack config holds a master password")
	}
	if !strings.Contains(err.Error(), "Pulumi.rehearsal.yaml holds a password") {
		t.Errorf("error %q does not name the config file", err)
	}
}

func TestPasswordKeys(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		`{"password":"abc"}`:                               true,
		`"{\"username\":\"app\",\"password\":\"x1\"}"`:     true,
		"vault-database:masterPassword:\n  secure: v1:abc": true,
		`"master_password": "zz"`:                          true,
		`"manageMasterUserPassword": true`:                 false,
		`"password": ""`:                                   false,
		`{"username":"app"}`:                               false,
	} {
		if got := passwordKey.MatchString(s); got != want {
			t.Errorf("%q: %v, want %v", s, got, want)
		}
	}
	state := map[string]any{
		"secretString": map[string]any{sig.Key: sig.Secret, "plaintext": `"{\"password\":\"p\"}"`},
		"list":         []any{map[string]any{"masterPassword": "x"}},
		"empty":        map[string]any{"password": ""},
		"manage":       map[string]any{"manageMasterUserPassword": true},
	}
	got := passwordPaths(state, "")
	slices.Sort(got)
	if want := []string{".list[0].masterPassword", ".secretString(json).password"}; !slices.Equal(got, want) {
		t.Errorf("passwordPaths = %v, want %v", got, want)
	}
}

// trailLayer creates a trail, with the default event selector set
// explicitly or not.
func trailLayer(explicitDefault bool) kit.Layer {
	return kit.Layer{Name: "trail", Project: "rehearse-test-trail", Run: func(ctx *pulumi.Context) (pulumi.Map, error) {
		args := &cloudtrail.TrailArgs{Name: pulumi.String("trail-rehearsal"), S3BucketName: pulumi.String("bucket-rehearsal")}
		if explicitDefault {
			args.EventSelectors = cloudtrail.TrailEventSelectorArray{&cloudtrail.TrailEventSelectorArgs{
				ReadWriteType: pulumi.String("All"), IncludeManagementEvents: pulumi.Bool(true),
			}}
		}
		trail, err := cloudtrail.NewTrail(ctx, "trail", args)
		if err != nil {
			return nil, err
		}
		return pulumi.Map{"trailArn": trail.Arn}, nil
	}}
}

// A value the provider reads back normalised (the trail's default event
// selector, read back as []) is a change on every up in a real account; the
// rehearsal's second deploy must show it too, and nothing without it.
func TestRehearsalSeesAPerpetualDiffFromAProviderReadBack(t *testing.T) {
	t.Parallel()
	_, _, err := rehearseWith(t, Options{Layers: []kit.Layer{trailLayer(true)}})
	if err == nil || !strings.Contains(err.Error(), "deployAll #2 changed layer trail") {
		t.Fatalf("err = %v, want the second deploy to change the trail", err)
	}
	if _, _, err := rehearseWith(t, Options{Layers: []kit.Layer{trailLayer(false)}}); err != nil {
		t.Fatalf("a trail without the explicit default: %v", err)
	}
}

func TestReadsOfStackReferencesAreNoChange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ch   map[string]int
		n    int
		text string
	}{
		{map[string]int{"same": 24}, 0, "none"},
		{map[string]int{"same": 23, "read": 1}, 0, "none (read 1)"},
		{map[string]int{"same": 22, "update": 1, "read": 1}, 1, "update 1 (read 1)"},
		{map[string]int{"create": 1, "delete": 2}, 3, "create 1, delete 2"},
	} {
		if n, text := modified(tc.ch), changeText(tc.ch); n != tc.n || text != tc.text {
			t.Errorf("%v: %d %q, want %d %q", tc.ch, n, text, tc.n, tc.text)
		}
	}
}

// keepLayer registers a VPC that a production environment protects, as
// the vault's layers protect what holds data (kit.Common.Stateful), and,
// with subnet, an unprotected subnet in it.
func keepLayer(subnet bool) kit.Layer {
	return kit.Layer{Name: "keep", Project: "rehearse-test-keep", Run: func(ctx *pulumi.Context) (pulumi.Map, error) {
		prod := config.New(ctx, "").Get("environmentClass") == kit.Production
		vpc, err := ec2.NewVpc(ctx, "vpc", &ec2.VpcArgs{CidrBlock: pulumi.String("10.0.0.0/16")}, pulumi.Protect(prod))
		if err != nil {
			return nil, err
		}
		if subnet {
			if _, err := ec2.NewSubnet(ctx, "subnet", &ec2.SubnetArgs{VpcId: vpc.ID(), CidrBlock: pulumi.String("10.0.1.0/24")}); err != nil {
				return nil, err
			}
		}
		return pulumi.Map{"vpcId": vpc.ID().ToStringOutput()}, nil
	}}
}

// production are the options of a production rehearsal of layer:
// environmentClass=production in its config, its VPC required protected.
func production(layer kit.Layer) Options {
	return Options{
		Layers:     []kit.Layer{layer},
		Production: true,
		Protected:  []Protected{{Layer: "keep", Type: "aws:ec2/vpc:Vpc"}},
		Config:     map[string]deploy.Config{"keep": {layer.Project + ":environmentClass": {Value: kit.Production}}},
	}
}

// On the real engine: a protected resource makes destroyAll fail with
// Pulumi's protect error and stay, in the state and in the stand-in's
// cloud; the retire path (pulumi state unprotect --all) lets the next
// destroyAll remove it.
func TestProtectedResourceRefusesDestroyUntilRetired(t *testing.T) {
	t.Parallel()
	rep, out, err := rehearseWith(t, production(keepLayer(false)))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Layers[0].Protected != 1 || rep.Refused == 0 || rep.Retire == 0 {
		t.Errorf("report %+v: want one protected resource, a refused destroy and a retire timed", rep)
	}
	wantIn(t, "output", out,
		"keep aws:ec2/vpc:Vpc protected (1 resource(s))",
		"is a PRODUCTION environment",
		"rehearse: destroyAll refused: urn:pulumi:rehearsal::rehearse-test-keep::aws:ec2/vpc:Vpc::vpc cannot be deleted because it is protected",
		"every stack's state (3 entries) and the stand-in's AWS (1 resources) unchanged",
		"keep: pulumi state unprotect --all --stack organization/rehearse-test-keep/rehearsal: nothing protected",
		"destroy refused on the protected resources with nothing changed, unprotected, destroyed without leftovers",
	)
}

// Pulumi's destroy does not stop at the first protected resource: it goes
// on past it and deletes every unprotected resource that does not hold a
// protected one up (here the subnet inside the protected VPC). The deploy
// runner previews a destroy first, which fails on the protected resource
// before anything is deleted: the refused destroyAll leaves the subnet
// too. (Without the preview the rehearsal reports "the refused destroyAll
// deleted 1 resource(s) ... subnet".)
func TestRefusedDestroyDeletesNothingBesideTheProtected(t *testing.T) {
	t.Parallel()
	_, out, err := rehearseWith(t, production(keepLayer(true)))
	if err != nil {
		t.Fatalf("err = %v, want the refused destroy to leave the subnet and the rehearsal to pass", err)
	}
	if !strings.Contains(out, "every stack's state (4 entries) and the stand-in's AWS (2 resources) unchanged") {
		t.Errorf("output does not show the refused destroy leaving everything:\n%s", out)
	}
}

// A production rehearsal of a layer that protects nothing fails: its
// destroyAll is not refused.
func TestProductionRehearsalWithoutProtectFails(t *testing.T) {
	t.Parallel()
	opts := production(keepLayer(false))
	opts.Config = nil // environmentClass stays ephemeral: no protect
	_, _, err := rehearseWith(t, opts)
	if err == nil {
		t.Fatal("rehearsal passed although nothing is protected")
	}
	wantIn(t, fmt.Sprintf("error %q", err), err.Error(), "aws:ec2/vpc:Vpc vpc is not protected in a production environment",
		"destroyAll of a production environment succeeded")
}

// taggingLayer is the model change of tags on the real engine: the first
// deploy's runs (its preview and its up) register the VPC on the default
// provider with the compliance tags of its own, as stacks did before the
// provider's defaultTags; every later run creates the stack's provider
// (kit.NewProvider) and registers the VPC through it with its Name only.
func taggingLayer() kit.Layer {
	runs := 0
	return kit.Layer{Name: "base", Project: baseProject, Run: func(ctx *pulumi.Context) (pulumi.Map, error) {
		runs++
		tags := kit.Tags{Environment: "rehearsal", CostCenter: "cc", Compliance: "soc2"}
		var opts []pulumi.ResourceOption
		own := pulumi.StringMap{"Name": pulumi.String("vpc-rehearsal")}
		if runs <= 2 {
			for k, v := range tags.Map() {
				own[k] = pulumi.String(v)
			}
		} else {
			p, err := kit.NewProvider(ctx, kit.ProviderName, "eu-west-1", tags)
			if err != nil {
				return nil, err
			}
			opts = append(opts, pulumi.Provider(p))
		}
		vpc, err := ec2.NewVpc(ctx, "vpc", &ec2.VpcArgs{CidrBlock: pulumi.String("10.0.0.0/16"), Tags: own}, opts...)
		if err != nil {
			return nil, err
		}
		return pulumi.Map{"vpcId": vpc.ID().ToStringOutput(), "token": pulumi.ToSecret(pulumi.String("t"))}, nil
	}}
}

// Moving a deployed stack from the default provider to kit.NewProvider
// (defaultTags) replaces and deletes nothing: the VPC is updated in place
// (its own tags lose the compliance keys) and the provider is created.
func TestMovingToTheTaggingProviderReplacesNothing(t *testing.T) {
	t.Parallel()
	_, out, err := rehearse(t, []kit.Layer{taggingLayer(), netLayer("vpcId")}, nil)
	if err == nil {
		t.Fatal("rehearsal passed although the second deploy moved the VPC to another provider")
	}
	msg := err.Error()
	if !strings.Contains(msg, "deployAll #2 changed layer base (") {
		t.Fatalf("error %q does not report the move as the second deploy's change", msg)
	}
	change := msg[strings.Index(msg, "changed layer base (")+len("changed layer base ("):]
	change = change[:strings.Index(change, ")")]
	if !strings.Contains(change, "update 1") || strings.Contains(change, "replace") || strings.Contains(change, "delete") {
		t.Errorf("the move did %q, want the VPC updated in place and nothing replaced or deleted\n%s", change, out)
	}
	if !strings.Contains(msg, `~ vpc: tags:`) {
		t.Errorf("error %q does not show the VPC's own tags changing", msg)
	}
}
