package rehearse

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/dbvault/dbvault/ops/deploy"
	"github.com/dbvault/dbvault/ops/rehearse/tools"
	"github.com/dbvault/dbvault/stacks/kit"
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
		root, err := tools.RepoRoot()
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
	rep, out, err := rehearse(t, []kit.Layer{baseLayer(fixed), netLayer("vpcId")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Layers) != 2 || rep.Layers[0].Resources != 1 || rep.Layers[1].Resources != 1 {
		t.Fatalf("report %+v, want base and net with one AWS resource each", rep.Layers)
	}
	for _, want := range []string{
		"net -> base: reference resolved",
		"net aws:ec2/subnet:Subnet.vpcId = base.vpcId",
		"secret output(s) encrypted",
		"rehearsal passed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestRehearsalFailsWhenALayerLacksAnOutputTheNextReads(t *testing.T) {
	_, out, err := rehearse(t, []kit.Layer{baseLayer(fixed), netLayer("vpcIdentifier")}, nil)
	if err == nil {
		t.Fatal("rehearsal passed although net reads an output base does not export")
	}
	for _, want := range []string{"layer net failed", "has no output vpcIdentifier"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if !strings.Contains(out, "rehearsal FAILED") {
		t.Error("no failure summary printed")
	}
}

func TestRehearsalFailsWhenASecondDeployChangesAResource(t *testing.T) {
	n := 0
	build := func() string { n++; return strconv.Itoa(n) } // a new value on every run of the program
	_, out, err := rehearse(t, []kit.Layer{baseLayer(build), netLayer("vpcId")}, nil)
	if err == nil {
		t.Fatal("rehearsal passed although the second deploy updated base's VPC")
	}
	for _, want := range []string{"deployAll #2 changed layer base (update 1)", `~ vpc: tags: {"Build":"1"} -> {"Build":"2"}`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if !strings.Contains(out, "changes on 2nd run") {
		t.Error("no summary table printed")
	}
}

func TestRehearsalFailsWhenDestroyOrderIsWrong(t *testing.T) {
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
	for _, want := range []string{"layer base destroyed while layer net still references it", "DependencyViolation"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// passwordLayer is a database layer whose cluster takes the master password
// from config (deployAll generates it), ignoring later changes to it or not.
func passwordLayer(ignore bool) kit.Layer {
	return kit.Layer{Name: deploy.DatabaseLayer, Project: "rehearse-test-db", Run: func(ctx *pulumi.Context) (pulumi.Map, error) {
		var opts []pulumi.ResourceOption
		if ignore {
			opts = append(opts, pulumi.IgnoreChanges([]string{"masterPassword"}))
		}
		cluster, err := rds.NewCluster(ctx, "aurora", &rds.ClusterArgs{
			ClusterIdentifier: pulumi.String("aurora-rehearsal"),
			Engine:            pulumi.String("aurora-mysql"),
			MasterUsername:    pulumi.String("dbadmin"),
			MasterPassword:    config.RequireSecret(ctx, "masterPassword"),
			SkipFinalSnapshot: pulumi.Bool(true),
		}, opts...)
		if err != nil {
			return nil, err
		}
		return pulumi.Map{"clusterArn": cluster.Arn}, nil
	}}
}

var rotatedPassword = []ConfigKey{{Layer: deploy.DatabaseLayer, Key: "rehearse-test-db:masterPassword"}}

func TestRehearsalPassesWhenRotationOwnsThePassword(t *testing.T) {
	_, out, err := rehearseWith(t, Options{Layers: []kit.Layer{passwordLayer(true)}, Rotated: rotatedPassword})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "masterPassword changed, as rotation would") {
		t.Error("the rehearsal did not change the password before the second deploy")
	}
}

func TestRehearsalFailsWhenARedeployWouldPutAStalePasswordBack(t *testing.T) {
	_, _, err := rehearseWith(t, Options{Layers: []kit.Layer{passwordLayer(false)}, Rotated: rotatedPassword})
	if err == nil {
		t.Fatal("rehearsal passed although the second deploy sets the cluster's password again")
	}
	for _, want := range []string{"deployAll #2 changed layer database (update 1)", "~ aurora: masterPassword: [secret changed]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestReadsOfStackReferencesAreNoChange(t *testing.T) {
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
