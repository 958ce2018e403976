package prove

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/dbvault/dbvault/functions/rotator/syncbuf"
	"github.com/dbvault/dbvault/ops/deploy"
	"github.com/dbvault/dbvault/ops/layers"
	"github.com/dbvault/dbvault/ops/rehearse"
	"github.com/dbvault/dbvault/ops/rehearse/tools"
	"github.com/dbvault/dbvault/ops/standin"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/tools/workspace"
)

// offline is an environment deployed offline as the rehearsal deploys one
// (ops/rehearse): every layer of ops/layers.All through the orchestrator
// behind `mage deployAll` and `mage destroyAll` (ops/deploy) on its
// Automation-API runner, on the real engine (the pinned Pulumi CLI), with a
// fresh file:// backend and the stand-in AWS provider, whose "account"
// records what exists.
type offline struct {
	orch  *deploy.Orchestrator
	cmd   auto.PulumiCommand
	env   map[string]string
	dir   string
	cloud string
	log   *syncbuf.Buffer
}

func newOffline(t *testing.T, name string) *offline {
	t.Helper()
	root, err := workspace.Root()
	if err != nil {
		t.Fatal(err)
	}
	var build bytes.Buffer
	cli, err := tools.EnsureCLI(context.Background(), root, &build)
	if err != nil {
		t.Fatalf("%v\n%s", err, build.String())
	}
	standinDir, err := tools.BuildStandin(context.Background(), root, t.TempDir(), &build)
	if err != nil {
		t.Fatalf("%v\n%s", err, build.String())
	}
	dir := t.TempDir()
	pass := make([]byte, 24)
	if _, err := rand.Read(pass); err != nil {
		t.Fatal(err)
	}
	o := &offline{dir: dir, cloud: filepath.Join(dir, "cloud"), log: &syncbuf.Buffer{}}
	// The rehearsal's environment for every Pulumi process: the stand-in
	// first on PATH, no plugin downloads, and no AWS credentials.
	o.env = rehearse.EngineEnv(cli, standinDir, o.cloud, hex.EncodeToString(pass))

	if err := os.MkdirAll(o.cloud, 0o750); err != nil {
		t.Fatal(err)
	}
	if o.cmd, err = auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: cli}); err != nil {
		t.Fatal(err)
	}
	environment, err := deploy.EnvironmentFromEnv(func(k string) string {
		return map[string]string{"ENV": name, "AWS_REGION": "us-east-1"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	o.orch = &deploy.Orchestrator{
		Env:    environment,
		Layers: layers.All,
		Runner: &deploy.Auto{
			StacksDir:  filepath.Join(dir, "stacks"),
			BackendURL: o.backend(),
			EnvVars:    o.env,
			PulumiRoot: cli,
			PulumiHome: filepath.Join(dir, "home"),
			Progress:   o.log,
		},
		Out:     o.log,
		Confirm: func(context.Context, string) (bool, error) { return true, nil }, // CI=true
	}
	return o
}

func (o *offline) backend() string { return "file://" + filepath.Join(o.dir, "state") }

// live lists what exists in the stand-in's account.
func (o *offline) live(t *testing.T) []string {
	t.Helper()
	recs, err := standin.LiveResources(o.cloud)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.URN)
	}
	return out
}

// state returns the URNs in layer l's state, read back with `pulumi stack
// export` as an operator would (nil when the stack does not exist).
func (o *offline) state(t *testing.T, l kit.Layer) []string {
	t.Helper()
	ctx := context.Background()
	ok, err := o.orch.Runner.Exists(ctx, l, o.orch.StackName(l))
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return nil
	}
	env := map[string]string{"PULUMI_BACKEND_URL": o.backend()}
	for k, v := range o.env {
		env[k] = v
	}
	s, err := auto.SelectStackInlineSource(ctx, o.orch.StackName(l), l.Project, l.Program,
		auto.WorkDir(filepath.Join(o.dir, "stacks", l.Name)), auto.EnvVars(env), auto.Pulumi(o.cmd),
		auto.PulumiHome(filepath.Join(o.dir, "home")))
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var d apitype.DeploymentV3
	if err := json.Unmarshal(u.Deployment, &d); err != nil {
		t.Fatal(err)
	}
	var urns []string
	for _, r := range d.Resources {
		urns = append(urns, string(r.URN))
	}
	return urns
}

// The proof on the real engine: deployAll really deploys every layer, a
// verify that fails stops the proof, destroyAll runs anyway and leaves
// nothing, neither in any stack's state nor in the stand-in's account, and
// the command exits 1 with the table in the job summary. Only verify and
// rotate are stood in for: they read AWS, which the stand-in is not.
func TestOfflineProofDestroysAfterAFailedVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("deploys and destroys every layer on the Pulumi engine (about a minute)")
	}
	const name = "prove-offline"
	o := newOffline(t, name)
	ctx := context.Background()

	var ran []string
	var liveAtVerify []string
	var secretArn any
	targets := map[string]func(context.Context) error{
		// What the mage targets run: the vault command's deploy-all and
		// destroy-all are these two calls on the same orchestrator.
		"go run mage.go deployAll": func(ctx context.Context) error {
			_, err := o.orch.DeployAll(ctx, "")
			return err
		},
		"go run mage.go destroyAll": func(ctx context.Context) error { return o.orch.DestroyAll(ctx) },
		// verify stands in for the read-only checks: it looks at what was
		// deployed, then fails as a FAIL line would.
		"go run mage.go verify": func(ctx context.Context) error {
			liveAtVerify = o.live(t)
			outs, err := o.orch.Outputs(ctx, "secrets")
			if err != nil {
				return err
			}
			secretArn = outs[deploy.SecretArnOutput].Value
			return fmt.Errorf("exit status 1 (a FAIL line, stood in)")
		},
		"go run mage.go rotate": func(context.Context) error { return nil },
	}
	runner := func(ctx context.Context, s Step) error {
		ran = append(ran, s.Command())
		target, ok := targets[s.Command()]
		if !ok {
			return fmt.Errorf("no stand-in for %s", s.Command())
		}
		return target(ctx)
	}
	var stamps []time.Time
	clock := func() time.Time {
		now := time.Now()
		stamps = append(stamps, now)
		return now
	}
	summary := filepath.Join(t.TempDir(), "summary.md")
	vars := map[string]string{
		"ENV": name, "AWS_REGION": "us-east-1", "GITHUB_STEP_SUMMARY": summary,
		"PULUMI_BACKEND_URL": o.backend(), "PULUMI_CONFIG_PASSPHRASE": o.env["PULUMI_CONFIG_PASSPHRASE"],
	}
	var out bytes.Buffer
	start := time.Now()
	code := Command{Getenv: func(k string) string { return vars[k] }, Scratch: t.TempDir(), Stdout: &out, Stderr: &out,
		Runner: runner, Now: clock}.Run(ctx)
	t.Logf("proof took %s:\n%s", time.Since(start).Round(100*time.Millisecond), out.String())
	if t.Failed() {
		t.Log(o.log.String())
	}

	if code != ExitFailed {
		t.Errorf("exit code %d after a failed verify, want %d", code, ExitFailed)
	}
	want := []string{"go run mage.go deployAll", "go run mage.go verify", "go run mage.go destroyAll"}
	if !slices.Equal(ran, want) {
		t.Fatalf("ran %q, want %q (rotate and the second verify skipped, destroyAll after the failure)", ran, want)
	}
	// deployAll deployed every layer for real.
	for _, typ := range []string{"aws:ec2/vpc:Vpc", "aws:kms/key:Key", "aws:rds/cluster:Cluster", "aws:secretsmanager/secret:Secret", "aws:lambda/function:Function"} {
		// A URN's type may follow its parent's, after a $.
		if !slices.ContainsFunc(liveAtVerify, func(urn string) bool { return strings.Contains(urn, typ+"::") }) {
			t.Errorf("after deployAll the stand-in's account holds no %s (%d resources)", typ, len(liveAtVerify))
		}
	}
	if s, _ := secretArn.(string); !strings.HasPrefix(s, "arn:aws:secretsmanager:us-east-1:") {
		t.Errorf("after deployAll the secrets stack's secretArn is %v, want a Secrets Manager ARN", secretArn)
	}
	// destroyAll left nothing.
	if left := o.live(t); len(left) > 0 {
		t.Errorf("after the proof the stand-in's account still holds %d resources: %q", len(left), left)
	}
	for _, l := range layers.All {
		if urns := o.state(t, l); len(urns) > 0 {
			t.Errorf("after the proof the state of %s holds %d resources: %q", l.Name, len(urns), urns)
		}
	}
	// The table: one row per step, with the time each took.
	b, err := os.ReadFile(summary) // #nosec G304 -- the test's own file
	if err != nil {
		t.Fatal(err)
	}
	if len(stamps) != 6 {
		t.Fatalf("the clock was read %d times, want 6 (start and end of 3 steps)", len(stamps))
	}
	deployTook, destroyTook := stamps[1].Sub(stamps[0]), stamps[5].Sub(stamps[4])
	if deployTook < time.Second || destroyTook < time.Second {
		t.Errorf("deployAll took %s and destroyAll %s: too short for four layers on the engine", deployTook, destroyTook)
	}
	for _, row := range []string{
		"| 1 | deployAll | `go run mage.go deployAll` | passed | " + FormatDuration(deployTook) + " |",
		"| 2 | verify | `go run mage.go verify` | FAILED: exit status 1 (a FAIL line, stood in) | " + FormatDuration(stamps[3].Sub(stamps[2])) + " |",
		"| 3 | rotate | `go run mage.go rotate` | skipped (an earlier step failed) | – |",
		"| 4 | verify again | `go run mage.go verify` | skipped (an earlier step failed) | – |",
		"| 5 | destroyAll | `go run mage.go destroyAll` | passed | " + FormatDuration(destroyTook) + " |",
		"**Result: FAILED** (verify); destroyAll removed the environment afterwards",
	} {
		if !strings.Contains(string(b), row+"\n") {
			t.Errorf("job summary lacks %q:\n%s", row, b)
		}
	}
}
