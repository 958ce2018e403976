// Package rehearse deploys and destroys every layer offline on the real
// Pulumi engine: the pinned Pulumi CLI, a fresh file:// backend with a
// passphrase, and the stand-in AWS provider (ops/standin) in place of the
// real one. It drives the same orchestration as `mage deployAll` and
// `mage destroyAll` (package ops/deploy, its Orchestrator and its
// Automation-API Runner); only the backend and the provider are swapped.
//
// A rehearsal proves what mocks cannot: that the layers deploy together in
// order, that every StackReference resolves through a real backend to the
// previous layer's values, that secret outputs cross stacks and stay
// encrypted, that a second deployAll with no change in code changes nothing
// (a perpetual diff is how a re-deploy reverts a rotated password), and that
// destroyAll, in reverse order, leaves nothing behind.
//
// A production rehearsal (Options.Production, with environmentClass=
// production in every layer's Config) also proves on the real engine that
// the stateful resources are protected: a first destroyAll must fail with
// Pulumi's protect error and change nothing, neither in any stack's state
// nor in the stand-in's cloud; then the environment is retired as
// docs/runbooks.md ("Retiring a production environment") says, with
// `pulumi state unprotect --all --yes` in every layer's work directory in
// reverse order, and destroyAll must leave nothing.
package rehearse

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"

	"github.com/dbvault/dbvault/ops/deploy"
	"github.com/dbvault/dbvault/ops/standin"
	"github.com/dbvault/dbvault/stacks/kit"
)

// Types the checks read from a stack's state.
const (
	stackType          = "pulumi:pulumi:Stack"
	stackReferenceType = "pulumi:pulumi:StackReference"
)

// Options configure one rehearsal.
type Options struct {
	// Layers in deploy order (ops/layers.All, or test layers).
	Layers []kit.Layer
	// Env is the environment rehearsed (stack name, region, tags).
	Env deploy.Environment
	// CLIRoot holds bin/pulumi (tools.EnsureCLI).
	CLIRoot string
	// StandinDir holds the stand-in pulumi-resource-aws; it
	// goes first on the PATH of every Pulumi process (tools.BuildStandin).
	StandinDir string
	// Dir is the scratch directory: backend, work directories, Pulumi home,
	// the stand-in's cloud and Pulumi's log. Required; the caller removes it.
	Dir string
	// Out receives the progress lines and the summary table (nil: discarded).
	Out io.Writer
	// Wiring are cross-layer checks on the deployed state.
	Wiring []Wiring
	// Destroy tears the environment down (nil: the orchestrator's
	// DestroyAll). Tests swap in a wrong order to show the rehearsal fails.
	Destroy func(ctx context.Context, o *deploy.Orchestrator) error
	// Config adds configuration to the named layers' stacks, as an operator
	// would set it (`pulumi config set` in stacks/<layer>), on every deploy.
	Config map[string]deploy.Config
	// Production rehearses a production environment: the caller sets
	// environmentClass=production for every layer in Config. Before the
	// teardown, a destroyAll must fail on the protected resources and
	// change nothing; then every layer's resources are unprotected with the
	// CLI (reverse order), as the runbook retires an environment.
	Production bool
	// Protected are the resources that must carry protect in a production
	// rehearsal (at least one of each, and every one). In an ephemeral
	// rehearsal no resource may be protected.
	Protected []Protected
}

// Protected selects the resources of a type in a layer.
type Protected struct {
	Layer, Type string
}

// Wiring says that a resource of one layer must carry, as an input, the
// value of an output of an earlier layer: proof that the StackReference
// between them resolved to that layer's values and reached AWS's API.
type Wiring struct {
	// Layer and Type select the consuming resources (at least one).
	Layer, Type string
	// Input is the consuming resource's input; a dotted path reaches into
	// an object input (environment.variables.DB_HOST).
	Input string
	// From and Output name the producing layer's stack output.
	From, Output string
}

// LayerReport is the rehearsal's account of one layer.
type LayerReport struct {
	Name string
	// Resources is the number of AWS resources in the layer's state.
	Resources int
	// Protected is the number of resources with protect in its state.
	Protected int
	// Deploy, Redeploy and Destroy are the wall times of the operations.
	Deploy, Redeploy, Destroy time.Duration
	// Changes are what the second deployAll changed (must be none).
	Changes map[string]int
}

// Report is the outcome of a rehearsal.
type Report struct {
	Layers []LayerReport
	// Problems are the checks that failed; empty means it all held.
	Problems []string
	// Production: Refused is the wall time of the destroyAll refused on the
	// protected resources, Retire that of the unprotects.
	Production      bool
	Refused, Retire time.Duration
}

func (r *Report) layer(name string) *LayerReport {
	for i := range r.Layers {
		if r.Layers[i].Name == name {
			return &r.Layers[i]
		}
	}
	r.Layers = append(r.Layers, LayerReport{Name: name})
	return &r.Layers[len(r.Layers)-1]
}

func (r *Report) fail(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Table writes the summary table.
func (r Report) Table(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "layer\tresources\tprotected\tdeploy s\tredeploy s\tdestroy s\tchanges on 2nd run")
	for _, l := range r.Layers {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%s\n", l.Name, l.Resources, l.Protected,
			l.Deploy.Seconds(), l.Redeploy.Seconds(), l.Destroy.Seconds(), changeText(l.Changes))
	}
	_ = tw.Flush()
	if r.Production {
		fmt.Fprintf(w, "production: destroyAll refused on the protected resources in %.1f s; unprotect --all in every layer %.1f s\n",
			r.Refused.Seconds(), r.Retire.Seconds())
	}
}

// rehearsal is the state of one Run.
type rehearsal struct {
	opts   Options
	out    io.Writer
	env    map[string]string
	runner *deploy.Auto
	orch   *deploy.Orchestrator
	report Report
	// refs maps a layer to the fully qualified stacks it references.
	refs map[string][]string
	log  *progressLog
	// orchOut keeps what the orchestrator printed (the production notice).
	orchOut bytes.Buffer
	// names are the rule and alarm names the deploys looked up.
	names lookedUpNames
}

// Run rehearses deployAll, a second deployAll and destroyAll, checking
// every step; it returns an error listing every check that failed.
func Run(ctx context.Context, opts Options) (Report, error) {
	if opts.Dir == "" || opts.CLIRoot == "" || opts.StandinDir == "" || len(opts.Layers) == 0 {
		return Report{}, errors.New("rehearse: Dir, CLIRoot, StandinDir and Layers are required")
	}
	r := &rehearsal{opts: opts, out: opts.Out, refs: map[string][]string{}}
	r.report.Production = opts.Production
	if r.out == nil {
		r.out = io.Discard
	}
	orch, logPath, err := r.setup()
	if err != nil {
		return Report{}, err
	}
	err = r.run(ctx, orch)
	if err != nil {
		r.report.fail("%v", err)
	}
	fmt.Fprintln(r.out)
	r.report.Table(r.out)
	if len(r.report.Problems) > 0 {
		fmt.Fprintf(r.out, "\nrehearsal FAILED (Pulumi's own output: %s):\n", logPath)
		for _, p := range r.report.Problems {
			fmt.Fprintf(r.out, "  - %s\n", strings.ReplaceAll(p, "\n", "\n    "))
		}
		return r.report, fmt.Errorf("rehearsal failed: %s", strings.Join(r.report.Problems, "; "))
	}
	if opts.Production {
		fmt.Fprintln(r.out, "\nrehearsal passed: deployed, checked, redeployed without change, destroy refused on the protected resources with nothing changed, unprotected, destroyed without leftovers")
		return r.report, nil
	}
	fmt.Fprintln(r.out, "\nrehearsal passed: deployed, checked, redeployed without change, destroyed without leftovers")
	return r.report, nil
}

// EngineEnv is the environment of every Pulumi process of an offline run:
// the stand-in first on PATH, then the pinned CLI (the engine takes the
// pulumi-resource-aws it finds on PATH instead of any plugin), no plugin
// downloads, the stand-in's AWS in cloudDir, the stacks' passphrase, and
// no AWS credentials (nothing may reach AWS, and nothing needs to).
func EngineEnv(cliRoot, standinDir, cloudDir, passphrase string) map[string]string {
	return map[string]string{
		"PATH":                     strings.Join([]string{standinDir, filepath.Join(cliRoot, "bin"), os.Getenv("PATH")}, string(os.PathListSeparator)),
		"PULUMI_CONFIG_PASSPHRASE": passphrase,
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
		"PULUMI_SKIP_UPDATE_CHECK":                    "true",
		// The engine writes the whole state after every step unless told
		// to save only the final one (sdk/go/common/env/env.go,
		// SkipCheckpoints; pkg/backend/snapshot.go). An offline run checks
		// the state each deployment ends with, never one cut short; the
		// operator's deployments (ops/deploy) keep every checkpoint.
		"PULUMI_SKIP_CHECKPOINTS": "true",
		// An offline run starts the CLI hundreds of times, each process
		// short-lived with a small heap: collecting less often cut the
		// CPU of a start by a sixth (0.24 to 0.20 s on 2 cores).
		"GOGC":              "400",
		standin.CloudDirEnv: cloudDir,
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
	}
}

// setup prepares the scratch directory, the environment of every Pulumi
// process, and the orchestrator on the Automation-API runner.
func (r *rehearsal) setup() (*deploy.Orchestrator, string, error) {
	dir := r.opts.Dir
	for _, d := range []string{"state", "stacks", "home", "cloud"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o750); err != nil {
			return nil, "", fmt.Errorf("rehearse: %w", err)
		}
	}
	pass := make([]byte, 24)
	if _, err := rand.Read(pass); err != nil {
		return nil, "", fmt.Errorf("rehearse: passphrase: %w", err)
	}
	r.env = EngineEnv(r.opts.CLIRoot, r.opts.StandinDir, filepath.Join(dir, "cloud"), hex.EncodeToString(pass))

	logPath := filepath.Join(dir, "pulumi.log")
	logFile, err := os.Create(logPath) // #nosec G304 -- inside our scratch directory
	if err != nil {
		return nil, "", fmt.Errorf("rehearse: %w", err)
	}
	r.log = &progressLog{w: logFile}
	r.runner = &deploy.Auto{
		StacksDir:  filepath.Join(dir, "stacks"),
		BackendURL: r.backend(),
		EnvVars:    r.env,
		PulumiRoot: r.opts.CLIRoot,
		PulumiHome: filepath.Join(dir, "home"),
		Progress:   r.log,
	}
	orch := &deploy.Orchestrator{
		Env:     r.opts.Env,
		Layers:  r.opts.Layers,
		Runner:  &recorder{Runner: r.runner, r: r},
		Out:     io.MultiWriter(r.out, &r.orchOut),
		Confirm: func(context.Context, string) (bool, error) { return true, nil },
		// The stand-in has no EC2 API: the rotator's network interface
		// shows while the function exists and at the first look after
		// it is deleted, so the secrets layer's destroy takes its real
		// path (a look, the rotator first on the engine, the wait, the
		// rest).
		ENIs:    &releasedENIs{},
		ENIPoll: time.Millisecond,
		// Every name is free; checkNames reads which were looked up.
		Names: &deploy.NameLookup{Rules: &r.names, Alarms: &r.names},
		ResumeCommand: func(env, layer string) string {
			return "go run mage.go dev:rehearse (a rehearsal always starts from a fresh backend)"
		},
	}
	r.orch = orch
	return orch, logPath, nil
}

func (r *rehearsal) backend() string { return "file://" + filepath.Join(r.opts.Dir, "state") }

// run is the rehearsal proper; problems that let it go on are recorded,
// an error ends it.
func (r *rehearsal) run(ctx context.Context, orch *deploy.Orchestrator) error {
	destroy := r.opts.Destroy
	if destroy == nil {
		destroy = func(ctx context.Context, o *deploy.Orchestrator) error { return o.DestroyAll(ctx) }
	}
	fmt.Fprintf(r.out, "rehearse: deployAll #1 of environment %s on %s\n", r.opts.Env.Name, r.backend())
	first, err := orch.DeployAll(ctx, "")
	if err != nil {
		r.report.fail("deployAll #1: %v", err)
		return r.cleanup(ctx, orch, destroy)
	}
	states := map[string]apitype.DeploymentV3{}
	for _, res := range first.Results {
		l := r.report.layer(res.Layer)
		l.Deploy = res.Duration
		st, err := r.export(ctx, res.Layer)
		if err != nil {
			return err
		}
		states[res.Layer] = st
		l.Resources = countAWS(st)
		l.Protected = len(protectedURNs(st))
		r.refs[res.Layer] = references(st)
	}
	r.checkProtected(states)
	r.checkOutputs(first)
	r.checkReferences(states)
	r.checkWiring(states, first)
	r.checkSecrets(states, first)
	r.checkNoPasswords(states)
	r.checkNames(states)
	fmt.Fprintf(r.out, "\nrehearse: deployAll #2 (must change nothing)\n")
	second, err := orch.DeployAll(ctx, "")
	if err != nil {
		r.report.fail("deployAll #2: %v", err)
		return r.cleanup(ctx, orch, destroy)
	}
	for _, res := range second.Results {
		l := r.report.layer(res.Layer)
		l.Redeploy = res.Duration
		l.Changes = res.Changes
		if modified(res.Changes) == 0 {
			continue
		}
		after, err := r.export(ctx, res.Layer)
		if err != nil {
			return err
		}
		r.report.fail("deployAll #2 changed layer %s (%s); a second deploy with no change in code must change nothing:\n%s",
			res.Layer, changeText(res.Changes), stateDiff(states[res.Layer], after))
	}
	if r.opts.Production {
		if err := r.refuse(ctx, orch, destroy); err != nil {
			return err
		}
		if err := r.retire(ctx, orch); err != nil {
			r.report.fail("%v", err)
			return nil // still protected: destroyAll would only fail again
		}
	}
	return r.teardown(ctx, orch, destroy)
}

// cleanup tears down after a failed deploy: in production, the resources
// are unprotected first (the failure is the rehearsal's finding, not the
// protect error a destroy would add).
func (r *rehearsal) cleanup(ctx context.Context, orch *deploy.Orchestrator, destroy func(context.Context, *deploy.Orchestrator) error) error {
	if r.opts.Production {
		if err := r.retire(ctx, orch); err != nil {
			r.report.fail("%v", err)
			return nil
		}
	}
	return r.teardown(ctx, orch, destroy)
}

// protectError matches how Pulumi refuses to delete a protected resource
// (pkg/resource/deploy/step.go, deleteProtectedError: `resource "<urn>"
// cannot be deleted\nbecause it is protected. ...`).
var protectError = regexp.MustCompile(`resource "?(urn:pulumi:[^"\s]+)"? cannot be deleted`)

// productionNotice is how ops/deploy starts what it prints before
// destroying a production environment (deploy.ProductionDestroyNotice).
const productionNotice = "is a PRODUCTION environment"

// checkProtected: in a production rehearsal, every resource that
// Options.Protected selects carries protect (and there is one at least); in
// an ephemeral one, nothing does.
func (r *rehearsal) checkProtected(states map[string]apitype.DeploymentV3) {
	if !r.opts.Production {
		for _, l := range r.opts.Layers {
			if urns := protectedURNs(states[l.Name]); len(urns) > 0 {
				r.report.fail("layer %s of an ephemeral environment protects %d resource(s) (first: %s); its destroy would fail", l.Name, len(urns), urns[0])
			}
		}
		return
	}
	for _, p := range r.opts.Protected {
		n := 0
		for _, res := range states[p.Layer].Resources {
			if string(res.Type) != p.Type {
				continue
			}
			n++
			if !res.Protect {
				r.report.fail("layer %s: %s %s is not protected in a production environment", p.Layer, p.Type, res.URN.Name())
			}
		}
		if n == 0 {
			r.report.fail("layer %s has no %s to check for protect", p.Layer, p.Type)
			continue
		}
		fmt.Fprintf(r.out, "rehearse: %s %s protected (%d resource(s))\n", p.Layer, p.Type, n)
	}
}

// protectedURNs are the URNs of the protected resources of a state.
func protectedURNs(st apitype.DeploymentV3) []string {
	var out []string
	for _, res := range st.Resources {
		if res.Protect {
			out = append(out, string(res.URN))
		}
	}
	return out
}

// inventory is what an environment holds: every layer's URNs (from its
// exported state) and the stand-in's live resources.
type inventory struct {
	urns map[string][]string
	live []string
}

func (r *rehearsal) inventory(ctx context.Context, orch *deploy.Orchestrator) (inventory, error) {
	inv := inventory{urns: map[string][]string{}}
	for _, l := range r.opts.Layers {
		ok, err := orch.Runner.Exists(ctx, l, orch.StackName(l))
		if err != nil || !ok {
			if err != nil {
				return inv, err
			}
			continue
		}
		st, err := r.export(ctx, l.Name)
		if err != nil {
			return inv, err
		}
		for _, res := range st.Resources {
			inv.urns[l.Name] = append(inv.urns[l.Name], string(res.URN))
		}
		slices.Sort(inv.urns[l.Name])
	}
	live, err := standin.LiveResources(filepath.Join(r.opts.Dir, "cloud"))
	if err != nil {
		return inv, err
	}
	for _, rec := range live {
		inv.live = append(inv.live, rec.URN+" ("+rec.ID+")")
	}
	slices.Sort(inv.live)
	return inv, nil
}

// names lists the resources of URNs by their names (the URN's last part).
func names(urns []string) string {
	out := make([]string, len(urns))
	for i, u := range urns {
		out[i] = u[strings.LastIndex(u, "::")+2:]
	}
	return strings.Join(out, ", ")
}

// missing returns the elements of before that after lacks.
func missing(before, after []string) []string {
	var out []string
	for _, b := range before {
		if !slices.Contains(after, b) {
			out = append(out, b)
		}
	}
	return out
}

// refuse shows that a production environment does not go by accident: a
// destroyAll prints the production notice, then fails with Pulumi's
// protect error, and every stack's state and the stand-in's cloud hold
// what they held before.
func (r *rehearsal) refuse(ctx context.Context, orch *deploy.Orchestrator, destroy func(context.Context, *deploy.Orchestrator) error) error {
	fmt.Fprintf(r.out, "\nrehearse: destroyAll of a production environment (must fail on the protected resources and change nothing)\n")
	before, err := r.inventory(ctx, orch)
	if err != nil {
		return err
	}
	mark := r.orchOut.Len()
	start := time.Now()
	err = destroy(ctx, orch)
	r.report.Refused = time.Since(start)
	if !strings.Contains(r.orchOut.String()[mark:], productionNotice) {
		r.report.fail("destroyAll of a production environment did not print the production notice (%q)", productionNotice)
	}
	switch {
	case err == nil:
		r.report.fail("destroyAll of a production environment succeeded: its protected resources did not stop it")
	case !protectError.MatchString(err.Error()):
		r.report.fail("destroyAll of a production environment failed, but not on a protected resource: %v", err)
	default:
		for _, m := range protectError.FindAllStringSubmatch(err.Error(), -1) {
			fmt.Fprintf(r.out, "rehearse: destroyAll refused: %s cannot be deleted because it is protected\n", m[1])
		}
	}
	after, err := r.inventory(ctx, orch)
	if err != nil {
		return err
	}
	changed := false
	for _, l := range r.opts.Layers {
		if gone := missing(before.urns[l.Name], after.urns[l.Name]); len(gone) > 0 {
			changed = true
			r.report.fail("the refused destroyAll deleted %d resource(s) from the state of layer %s: %s", len(gone), l.Name, names(gone))
		}
	}
	if gone := missing(before.live, after.live); len(gone) > 0 {
		changed = true
		r.report.fail("the refused destroyAll deleted %d resource(s) from the stand-in's AWS: %s", len(gone), names(gone))
	}
	if !changed {
		n := 0
		for _, u := range before.urns {
			n += len(u)
		}
		fmt.Fprintf(r.out, "rehearse: every stack's state (%d entries) and the stand-in's AWS (%d resources) unchanged\n", n, len(before.live))
	}
	return nil
}

// retire unprotects every layer's resources in reverse order, as the
// runbook does before the destroy: `pulumi state unprotect --all --yes` in
// the layer's work directory, with the rehearsal's backend and
// environment. Afterwards no state holds a protected resource.
func (r *rehearsal) retire(ctx context.Context, orch *deploy.Orchestrator) error {
	fmt.Fprintf(r.out, "\nrehearse: retire: pulumi state unprotect --all in every layer, in reverse order\n")
	start := time.Now()
	defer func() { r.report.Retire = time.Since(start) }()
	env := maps.Clone(r.env)
	env["PULUMI_BACKEND_URL"] = r.backend()
	env["PULUMI_HOME"] = filepath.Join(r.opts.Dir, "home")
	vars := os.Environ()
	for k, v := range env {
		vars = append(vars, k+"="+v)
	}
	rev := slices.Clone(r.opts.Layers)
	slices.Reverse(rev)
	for _, l := range rev {
		ok, err := orch.Runner.Exists(ctx, l, orch.StackName(l))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		args := []string{"state", "unprotect", "--all", "--yes", "--non-interactive", "--stack", orch.StackName(l)}
		c := exec.CommandContext(ctx, filepath.Join(r.opts.CLIRoot, "bin", "pulumi"), args...) // #nosec G204 -- the pinned CLI, our arguments
		c.Dir = filepath.Join(r.opts.Dir, "stacks", l.Name)
		c.Env = vars
		out, err := c.CombinedOutput()
		if err != nil {
			return fmt.Errorf("retire: pulumi %s in stacks/%s: %w\n%s", strings.Join(args, " "), l.Name, err, strings.TrimSpace(string(out)))
		}
		st, err := r.export(ctx, l.Name)
		if err != nil {
			return err
		}
		if urns := protectedURNs(st); len(urns) > 0 {
			return fmt.Errorf("retire: after pulumi state unprotect --all, layer %s still protects %d resource(s) (first: %s)", l.Name, len(urns), urns[0])
		}
		fmt.Fprintf(r.out, "rehearse: %s: pulumi state unprotect --all --stack %s: nothing protected\n", l.Name, orch.StackName(l))
	}
	return nil
}

// teardown runs destroy and checks that nothing is left, neither in any
// stack's state nor in the stand-in's cloud.
func (r *rehearsal) teardown(ctx context.Context, orch *deploy.Orchestrator, destroy func(context.Context, *deploy.Orchestrator) error) error {
	fmt.Fprintf(r.out, "\nrehearse: destroyAll\n")
	if err := destroy(ctx, orch); err != nil {
		r.report.fail("destroyAll: %v", err)
		return nil
	}
	// The rotator went first, and its role only after the wait.
	if rec, ok := orch.Runner.(*recorder); ok {
		deployed := slices.ContainsFunc(r.report.Layers, func(l LayerReport) bool { return l.Name == deploy.RotatorLayer && l.Deploy > 0 })
		switch {
		case rec.first == 0 && deployed && r.has(deploy.NetworkLayer):
			r.report.fail("destroyAll deleted nothing ahead of the secrets layer: the rotator must go first, and its role after its network interfaces")
		case rec.first > 0 && !strings.Contains(r.orchOut.String(), "Lambda released the rotator's network interfaces"):
			r.report.fail("destroyAll deleted the rotator first but did not wait for its network interfaces")
		}
	}
	for _, l := range r.opts.Layers {
		ok, err := orch.Runner.Exists(ctx, l, orch.StackName(l))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		st, err := r.export(ctx, l.Name)
		if err != nil {
			return err
		}
		if n := len(st.Resources); n > 0 {
			r.report.fail("after destroyAll, layer %s still holds %d resources in its state (first: %s)", l.Name, n, st.Resources[0].URN)
		}
	}
	live, err := standin.LiveResources(filepath.Join(r.opts.Dir, "cloud"))
	if err != nil {
		return err
	}
	for _, rec := range live {
		r.report.fail("after destroyAll, %s (%s) still exists in the stand-in's AWS", rec.URN, rec.ID)
	}
	return nil
}

// has reports whether the rehearsal deploys the layer called name.
func (r *rehearsal) has(name string) bool {
	return slices.ContainsFunc(r.opts.Layers, func(l kit.Layer) bool { return l.Name == name })
}

// stack is the stack of the layer called name, as the runner has it (its
// work directory, backend, CLI and Pulumi home), created when it does not
// exist.
func (r *rehearsal) stack(ctx context.Context, name string) (auto.Stack, error) {
	i := slices.IndexFunc(r.opts.Layers, func(l kit.Layer) bool { return l.Name == name })
	if i < 0 {
		return auto.Stack{}, fmt.Errorf("rehearse: no layer %q", name)
	}
	layer := r.opts.Layers[i]
	s, err := r.runner.UpsertStack(ctx, layer, r.orch.StackName(layer))
	if err != nil {
		return auto.Stack{}, fmt.Errorf("rehearse: the stack of %s: %w", name, err)
	}
	return s, nil
}

// export returns the state of layer's stack, read back through the CLI
// (pulumi stack export), as an operator would.
func (r *rehearsal) export(ctx context.Context, name string) (apitype.DeploymentV3, error) {
	s, err := r.stack(ctx, name)
	if err != nil {
		return apitype.DeploymentV3{}, err
	}
	d, err := deploy.DecryptedStackState(ctx, s)
	if err != nil {
		return apitype.DeploymentV3{}, fmt.Errorf("rehearse: the state of %s: %w", name, err)
	}
	return d, nil
}

// checkOutputs: every layer exports something, no output is empty, and
// the secrets layer's secretArn (checked first) is a Secrets Manager ARN in
// the clear.
func (r *rehearsal) checkOutputs(sum deploy.Summary) {
	for _, res := range sum.Results {
		if res.Layer == "secrets" {
			v, ok := res.Outputs[deploy.SecretArnOutput]
			s, _ := v.Value.(string)
			switch {
			case !ok:
				r.report.fail("layer secrets exports no %s", deploy.SecretArnOutput)
			case v.Secret || !strings.HasPrefix(s, "arn:aws:secretsmanager:"+r.opts.Env.Region+":"):
				r.report.fail("layer secrets: %s = %s, want a Secrets Manager ARN in %s, not secret", deploy.SecretArnOutput, deploy.FormatOutput(v), r.opts.Env.Region)
			default:
				fmt.Fprintf(r.out, "rehearse: secretArn = %s\n", s)
			}
		}
	}
	for _, res := range sum.Results {
		if len(res.Outputs) == 0 {
			r.report.fail("layer %s exports nothing", res.Layer)
		}
		for _, k := range slices.Sorted(maps.Keys(res.Outputs)) {
			if empty(res.Outputs[k].Value) {
				r.report.fail("layer %s: output %s is empty", res.Layer, k)
			}
		}
	}
}

func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		if len(x) == 0 {
			return true
		}
		return slices.ContainsFunc(x, empty)
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// checkReferences: every StackReference in a layer's state names the stack
// of an earlier layer, and resolved to exactly that stack's outputs (a
// secret output to a secret).
func (r *rehearsal) checkReferences(states map[string]apitype.DeploymentV3) {
	stackOf := map[string]string{}
	order := map[string]int{}
	for i, l := range r.opts.Layers {
		stackOf[r.opts.Env.FullyQualified(l.Project)] = l.Name
		order[l.Name] = i
	}
	for _, l := range r.opts.Layers {
		st, ok := states[l.Name]
		if !ok {
			continue
		}
		for _, res := range st.Resources {
			if string(res.Type) != stackReferenceType {
				continue
			}
			name, _ := res.Inputs["name"].(string)
			from, ok := stackOf[name]
			if !ok || order[from] >= order[l.Name] {
				r.report.fail("layer %s references stack %q, which is not an earlier layer's", l.Name, name)
				continue
			}
			got, _ := res.Outputs["outputs"].(map[string]any)
			want := stackOutputs(states[from])
			for _, k := range slices.Sorted(maps.Keys(want)) {
				g, present := got[k]
				switch {
				case !present:
					r.report.fail("layer %s: its reference to %s lacks output %s", l.Name, from, k)
				case isSecret(g) != isSecret(want[k]):
					r.report.fail("layer %s: output %s of %s crossed the reference with its secretness changed", l.Name, k, from)
				case !isSecret(g) && !reflect.DeepEqual(g, want[k]):
					r.report.fail("layer %s: its reference to %s resolved %s to %v, but %s exports %v", l.Name, from, k, g, from, want[k])
				}
			}
			fmt.Fprintf(r.out, "rehearse: %s -> %s: reference resolved to the %d outputs of %s\n", l.Name, from, len(want), name)
		}
	}
}

// checkWiring applies the Wiring checks.
func (r *rehearsal) checkWiring(states map[string]apitype.DeploymentV3, sum deploy.Summary) {
	outputs := map[string]deploy.Outputs{}
	for _, res := range sum.Results {
		outputs[res.Layer] = res.Outputs
	}
	for _, w := range r.opts.Wiring {
		want, ok := outputs[w.From][w.Output]
		if !ok {
			r.report.fail("wiring %s.%s <- %s.%s: layer %s has no output %s", w.Type, w.Input, w.From, w.Output, w.From, w.Output)
			continue
		}
		n := 0
		for _, res := range states[w.Layer].Resources {
			if string(res.Type) != w.Type {
				continue
			}
			n++
			if got := InputAt(res.Inputs, w.Input); !reflect.DeepEqual(got, want.Value) {
				r.report.fail("layer %s: %s %s has %s = %v, want %s's %s = %v", w.Layer, w.Type, res.URN.Name(), w.Input, got, w.From, w.Output, want.Value)
			}
		}
		if n == 0 {
			r.report.fail("layer %s has no %s to check against %s.%s", w.Layer, w.Type, w.From, w.Output)
			continue
		}
		fmt.Fprintf(r.out, "rehearse: %s %s.%s = %s.%s (%d resource(s))\n", w.Layer, w.Type, w.Input, w.From, w.Output, n)
	}
}

// InputAt is the value at the dotted path in a resource's inputs (nil when
// any step is missing or not an object).
func InputAt(inputs map[string]any, path string) any {
	var v any = inputs
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// checkSecrets: no secret output's value appears in clear in any file the
// rehearsal wrote, and the secret outputs are secret in the state.
func (r *rehearsal) checkSecrets(states map[string]apitype.DeploymentV3, sum deploy.Summary) {
	var secrets []string
	for _, res := range sum.Results {
		for k, v := range res.Outputs {
			if s, ok := v.Value.(string); ok && v.Secret && len(s) >= 8 {
				secrets = append(secrets, s)
				if !isSecret(stackOutputs(states[res.Layer])[k]) {
					r.report.fail("layer %s: secret output %s is not encrypted in the state", res.Layer, k)
				}
			}
		}
	}
	if len(secrets) == 0 {
		return
	}
	// Every file the rehearsal wrote (state, history, backups, stack config,
	// the stand-in's cloud, Pulumi's log), but not the binaries and plugins.
	files := r.writtenFiles()
	for _, f := range files {
		b, err := os.ReadFile(f) // #nosec G304 -- a file of our own scratch directory
		if err != nil {
			continue
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				r.report.fail("a secret output's value is in clear in %s", strings.TrimPrefix(f, r.opts.Dir+"/"))
			}
		}
	}
	fmt.Fprintf(r.out, "rehearse: %d secret output(s) encrypted in state and config (%d files searched)\n", len(secrets), len(files))
}

// passwordKey is a key that holds a password: "password" or
// "masterPassword" (any case, with or without an underscore), as a JSON key
// (also escaped inside a JSON string) or a YAML key, followed by a
// non-empty value. A key that merely mentions passwords
// (manageMasterUserPassword) does not match.
var passwordKey = regexp.MustCompile(`(?i)(^|[^a-z_])(master_?)?password\\*"?\s*:\s*\\*"?[^\s"\\,}{]`)

// checkNoPasswords: no password is anywhere the rehearsal wrote. In the
// states (exported with their secrets decrypted, so a password kept as a
// Pulumi secret is found too), no input or output, nor any JSON document
// inside one (a secret's value), has a password key with a value; and no
// file (state, history, backups, stack config, the stand-in's cloud,
// Pulumi's log) holds one in clear. Problems name where, never the value.
func (r *rehearsal) checkNoPasswords(states map[string]apitype.DeploymentV3) {
	found := 0
	for layer, st := range states {
		for _, res := range st.Resources {
			for what, props := range map[string]map[string]any{"input": res.Inputs, "output": res.Outputs} {
				for _, path := range passwordPaths(props, "") {
					found++
					r.report.fail("layer %s: %s has a password at %s %s", layer, res.URN, what, path)
				}
			}
		}
	}
	files := r.writtenFiles()
	for _, f := range files {
		b, err := os.ReadFile(f) // #nosec G304 -- a file of our own scratch directory
		if err != nil {
			continue
		}
		if loc := passwordKey.FindIndex(b); loc != nil {
			found++
			r.report.fail("%s holds a password (at byte %d)", strings.TrimPrefix(f, r.opts.Dir+"/"), loc[0])
		}
	}
	if found == 0 {
		fmt.Fprintf(r.out, "rehearse: no password in any state (secrets decrypted) or in any of %d files written\n", len(files))
	}
}

// passwordPaths returns the paths in v of password keys with a non-empty
// value, looking into decrypted secrets and into strings that hold JSON.
func passwordPaths(v any, at string) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if isSecret(x) {
			if p, ok := x["plaintext"].(string); ok {
				var inner any
				if json.Unmarshal([]byte(p), &inner) == nil {
					return passwordPaths(inner, at)
				}
			}
			return nil
		}
		for k, e := range x {
			key := strings.ToLower(strings.ReplaceAll(k, "_", ""))
			if s, ok := e.(string); ok && s != "" && (key == "password" || key == "masterpassword") {
				out = append(out, at+"."+k)
				continue
			}
			out = append(out, passwordPaths(e, at+"."+k)...)
		}
	case []any:
		for i, e := range x {
			out = append(out, passwordPaths(e, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case string:
		if t := strings.TrimSpace(x); strings.HasPrefix(t, "{") {
			var inner any
			if json.Unmarshal([]byte(t), &inner) == nil {
				out = append(out, passwordPaths(inner, at+"(json)")...)
			}
		}
	}
	return out
}

// writtenFiles are the files of the scratch directory the rehearsal and the
// engine wrote, without the binaries and plugins.
func (r *rehearsal) writtenFiles() []string {
	var files []string
	_ = filepath.WalkDir(r.opts.Dir, func(path string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil
		case d.IsDir() && (d.Name() == "bin" || d.Name() == "home"):
			return filepath.SkipDir
		case !d.IsDir():
			files = append(files, path)
		}
		return nil
	})
	return files
}

// recorder is the Runner the orchestrator drives: the Automation-API runner,
// with Pulumi's diagnostics added to its errors, destroys timed, and a
// problem noted when a layer goes while a layer that references it is still
// deployed.
type recorder struct {
	deploy.Runner
	r *rehearsal

	mu   sync.Mutex
	gone []string
	// first counts the resources deleted ahead of their layer (DestroyType).
	first int
}

// Destroy notes a problem when another deployed layer still references
// this one, then destroys it (the stand-in refuses to delete what is still
// in use, as AWS would).
func (c *recorder) Destroy(ctx context.Context, l kit.Layer, env string) (deploy.Result, error) {
	stack := c.r.opts.Env.FullyQualified(l.Project)
	c.mu.Lock()
	for _, other := range c.r.opts.Layers {
		if other.Name != l.Name && !slices.Contains(c.gone, other.Name) && slices.Contains(c.r.refs[other.Name], stack) {
			c.r.report.fail("layer %s destroyed while layer %s still references it", l.Name, other.Name)
		}
	}
	c.mu.Unlock()
	mark := c.r.log.mark()
	res, err := c.Runner.Destroy(ctx, l, env)
	if err != nil {
		return res, c.r.log.withDiagnostics(err, mark)
	}
	{
		c.mu.Lock()
		c.gone = append(c.gone, l.Name)
		c.r.report.layer(l.Name).Destroy = res.Duration
		c.mu.Unlock()
	}
	return res, err
}

// DestroyType passes the secrets layer's first delete (the rotator, before
// its role) on to the engine, with Pulumi's diagnostics added to its
// errors, and counts what it deleted.
func (c *recorder) DestroyType(ctx context.Context, l kit.Layer, env, typ string) (int, error) {
	td, ok := c.Runner.(deploy.TypeDestroyer)
	if !ok {
		return 0, fmt.Errorf("rehearse: the runner cannot delete the rotator first")
	}
	mark := c.r.log.mark()
	n, err := td.DestroyType(ctx, l, env, typ)
	if err != nil {
		return n, c.r.log.withDiagnostics(err, mark)
	}
	c.mu.Lock()
	c.first += n
	c.mu.Unlock()
	if e, ok := c.r.orch.ENIs.(*releasedENIs); ok && n > 0 {
		e.functionDeleted()
	}
	return n, nil
}

// releasedENIs stands in for EC2's DescribeNetworkInterfaces: the
// rotator's interface is there while the function exists, and at the first
// look after it is deleted.
type releasedENIs struct {
	mu              sync.Mutex
	deleted, looked bool
}

func (e *releasedENIs) functionDeleted() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.deleted = true
}

func (e *releasedENIs) DescribeNetworkInterfaces(context.Context, *ec2.DescribeNetworkInterfacesInput, ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := &ec2.DescribeNetworkInterfacesOutput{}
	if !e.deleted || !e.looked {
		e.looked = e.deleted
		out.NetworkInterfaces = []ec2types.NetworkInterface{{NetworkInterfaceId: aws.String("eni-0rehearsal")}}
	}
	return out, nil
}

// Preview sets the layer's extra config in its stack first, as the
// operator would have (`pulumi config set`): a preview itself writes no
// config, and every up previews first.
func (c *recorder) Preview(ctx context.Context, l kit.Layer, env string, cfg deploy.Config) (deploy.Result, error) {
	if extra := c.r.opts.Config[l.Name]; len(extra) > 0 {
		if err := c.r.seed(ctx, l, extra); err != nil {
			return deploy.Result{}, err
		}
	}
	mark := c.r.log.mark()
	res, err := c.Runner.Preview(ctx, l, env, cfg)
	if err != nil {
		err = c.r.log.withDiagnostics(err, mark)
	}
	return res, err
}

// seed sets the keys of cfg that layer's stack lacks, creating the stack
// when needed, in the runner's work directory and backend.
func (r *rehearsal) seed(ctx context.Context, layer kit.Layer, cfg deploy.Config) error {
	s, err := r.stack(ctx, layer.Name)
	if err != nil {
		return err
	}
	have, err := s.GetAllConfig(ctx)
	if err != nil {
		return fmt.Errorf("rehearse: config of %s: %w", layer.Name, err)
	}
	set := auto.ConfigMap{}
	for k, v := range cfg {
		if _, ok := have[k]; !ok {
			set[k] = auto.ConfigValue{Value: v.Value, Secret: v.Secret}
		}
	}
	if len(set) == 0 {
		return nil
	}
	if err := s.SetAllConfig(ctx, set); err != nil {
		return fmt.Errorf("rehearse: setting the config of %s (values not shown)", layer.Name)
	}
	return nil
}

// Up is the runner's Up with Pulumi's diagnostics in its error.
func (c *recorder) Up(ctx context.Context, l kit.Layer, env string, cfg deploy.Config) (deploy.Result, error) {
	mark := c.r.log.mark()
	if extra := c.r.opts.Config[l.Name]; len(extra) > 0 {
		cfg = maps.Clone(cfg)
		maps.Copy(cfg, extra)
	}
	res, err := c.Runner.Up(ctx, l, env, cfg)
	if err != nil {
		err = c.r.log.withDiagnostics(err, mark)
	}
	return res, err
}

// countAWS counts the AWS resources in a state.
func countAWS(st apitype.DeploymentV3) int {
	n := 0
	for _, res := range st.Resources {
		if res.Custom && strings.HasPrefix(string(res.Type), "aws:") {
			n++
		}
	}
	return n
}

// references returns the stacks a state references.
func references(st apitype.DeploymentV3) []string {
	var out []string
	for _, res := range st.Resources {
		if string(res.Type) == stackReferenceType {
			if name, ok := res.Inputs["name"].(string); ok {
				out = append(out, name)
			}
		}
	}
	return out
}

// stackOutputs returns the stack outputs recorded in a state.
func stackOutputs(st apitype.DeploymentV3) map[string]any {
	for _, res := range st.Resources {
		if string(res.Type) == stackType {
			return res.Outputs
		}
	}
	return nil
}

// isSecret reports whether v is a secret as Pulumi's state records one.
func isSecret(v any) bool {
	m, ok := v.(map[string]any)
	return ok && m[sig.Key] == sig.Secret
}

// stateDiff lists, resource by resource, the inputs that differ between
// two states of a stack (a secret shown only as changed).
func stateDiff(before, after apitype.DeploymentV3) string {
	old := map[string]apitype.ResourceV3{}
	for _, res := range before.Resources {
		old[string(res.URN)] = res
	}
	var lines []string
	seen := map[string]bool{}
	for _, res := range after.Resources {
		urn := string(res.URN)
		seen[urn] = true
		prev, ok := old[urn]
		if !ok {
			lines = append(lines, "+ "+urn)
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(union(prev.Inputs, res.Inputs))) {
			a, b := prev.Inputs[k], res.Inputs[k]
			if reflect.DeepEqual(a, b) {
				continue
			}
			if isSecret(a) || isSecret(b) {
				lines = append(lines, fmt.Sprintf("~ %s: %s: [secret changed]", res.URN.Name(), k))
				continue
			}
			lines = append(lines, fmt.Sprintf("~ %s: %s: %s -> %s", res.URN.Name(), k, brief(a), brief(b)))
		}
		if prev.ID != res.ID {
			lines = append(lines, fmt.Sprintf("~ %s: id %s -> %s (replaced)", res.URN.Name(), prev.ID, res.ID))
		}
	}
	for _, res := range before.Resources {
		if !seen[string(res.URN)] {
			lines = append(lines, "- "+string(res.URN))
		}
	}
	if len(lines) == 0 {
		return "    (no input differs in the state; see Pulumi's output)"
	}
	return "    " + strings.Join(lines, "\n    ")
}

func union(a, b map[string]any) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func brief(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// unchanging are the operations that change nothing in AWS: "same", and
// "read", which a StackReference reports when the referenced stack's
// outputs changed (the resources that consume them report their own
// change, if any).
var unchanging = []string{"same", "read"}

// modified counts the resources an operation created, updated, replaced
// or deleted.
func modified(ch map[string]int) int {
	n := 0
	for k, c := range ch {
		if !slices.Contains(unchanging, k) {
			n += c
		}
	}
	return n
}

// changeText renders the modifying operations ("update 1"), or "none",
// with reads noted.
func changeText(ch map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(ch)) {
		if !slices.Contains(unchanging, k) && ch[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, ch[k]))
		}
	}
	text := "none"
	if len(parts) > 0 {
		text = strings.Join(parts, ", ")
	}
	if ch["read"] > 0 {
		text += fmt.Sprintf(" (read %d)", ch["read"])
	}
	return text
}

// progressLog takes Pulumi's output (from concurrent streams) into the log
// file and keeps a copy, so that a failed operation's diagnostics can be
// quoted in the error: the Automation API's own error says only "exit
// status 1".
type progressLog struct {
	mu  sync.Mutex
	w   io.Writer
	buf bytes.Buffer
}

func (l *progressLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	return l.w.Write(p)
}

// mark returns the current end of the log.
func (l *progressLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Len()
}

// diagnostics returns the error lines Pulumi printed since mark, each once.
func (l *progressLog) diagnostics(mark int) string {
	l.mu.Lock()
	text := l.buf.String()[mark:]
	l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "error:") && !slices.Contains(out, line) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// withDiagnostics adds Pulumi's error lines since mark to err.
func (l *progressLog) withDiagnostics(err error, mark int) error {
	if d := l.diagnostics(mark); d != "" {
		return fmt.Errorf("%w\n%s", err, d)
	}
	return err
}
