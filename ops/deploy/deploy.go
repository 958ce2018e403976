// Package deploy is the orchestration behind `mage deployAll`, `destroyAll`
// and the per-layer targets: which layers run, in which order, with which
// configuration, what happens when one fails, and what the operator reads at
// the end. The Pulumi work itself sits behind the small Runner interface, so
// every rule here is tested with a fake runner, and the offline rehearsal
// drives the very same code with only the backend and the provider swapped.
//
// # API
//
//   - Environment (EnvironmentFromEnv reads ENV, AWS_REGION, TAG_*): the
//     stack name (= environmentSuffix), region, tag values and organisation.
//   - Orchestrator{Env, Layers, Runner, Out, Confirm, ResumeCommand,
//     AllowReplace, PlanOut, Provides, Trails, ENIs, Names}: every stack by
//     its fully qualified name (<org>/<project>/<env>; the organisation
//     from PULUMI_ORG or an OrgResolver runner), the account's trail seeded
//     before a new secrets layer (trail.go), the rotator's network
//     interfaces awaited on destroy (eni.go), a create that would take over
//     a namesake refused (plan.go), a production destroy explained first
//     (production.go);
//     DeployAll(ctx, from), DestroyAll(ctx), Up, Preview,
//     PreviewAll, Destroy, Outputs. Layers is ops/layers.All in production
//     (network, kms, database, secrets), any []kit.Layer in tests.
//   - Runner: Exists, Up, Preview, Destroy, Outputs on one layer's stack.
//     Auto (auto.go) is the real one, on the Pulumi Automation API with
//     inline programs; its fields (BackendURL, EnvVars, PulumiRoot,
//     PulumiHome, WorkDir, SecretsProvider, Progress) are what a rehearsal
//     swaps. No package-level state: everything comes in through fields.
//   - LayerConfig: the configuration a layer's stack gets (exported so a
//     rehearsal or a test can show it).
//   - Preflight (preflight.go): the checks that run before any Pulumi work,
//     each missing piece reported as one line saying what to do.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/dbvault/dbvault/stacks/kit"
)

// Runner performs Pulumi operations on the stack of one layer. The stack
// argument is the stack's fully qualified name, <org>/<project>/<env>
// (Orchestrator.StackName), so a Pulumi Cloud backend never falls back to
// the login's default organisation; cfg holds fully qualified config keys
// ("vault-network:environmentSuffix", "aws:region").
//
// A runner never replaces a config value the stack already has: cfg only
// seeds the keys the stack lacks (the Orchestrator has already stopped when
// an explicit value disagrees with the stack's), and Preview writes nothing
// to the stack's config at all.
type Runner interface {
	// Exists reports whether the layer's stack exists in the backend.
	Exists(ctx context.Context, layer kit.Layer, env string) (bool, error)
	// Deployed reports whether the layer's stack exists and holds a
	// resource of the layer (not just the stack and its providers, which
	// a destroy or a first preview leaves).
	Deployed(ctx context.Context, layer kit.Layer, env string) (bool, error)
	// Config returns the stack's config values by fully qualified key
	// (secrets in clear); ok is false when the stack does not exist.
	Config(ctx context.Context, layer kit.Layer, env string) (values map[string]string, ok bool, err error)
	// Up creates the stack when needed, sets the keys of cfg the stack
	// lacks and deploys the layer.
	Up(ctx context.Context, layer kit.Layer, env string, cfg Config) (Result, error)
	// Preview creates the stack when needed and previews the layer with
	// the stack's config plus the keys of cfg it lacks, writing none.
	Preview(ctx context.Context, layer kit.Layer, env string, cfg Config) (Result, error)
	// Destroy deletes every resource of the layer's stack; the stack, empty,
	// and its config stay, as `pulumi destroy` leaves them.
	Destroy(ctx context.Context, layer kit.Layer, env string) (Result, error)
	// Outputs returns the stack's outputs (secret values in clear, marked).
	Outputs(ctx context.Context, layer kit.Layer, env string) (Outputs, error)
}

// ConfigValue is one stack configuration value. It only ever seeds a key
// the stack lacks: a value the stack has is the stack's.
type ConfigValue struct {
	// Value is the value to set.
	Value string
	// Secret stores the value encrypted by the stack's secrets provider.
	Secret bool
	// From is the environment variable the value was given by ("" for a
	// default or a derived value). When the stack already has another
	// value, a value From a variable stops the command (the operator asked
	// for something the stack does not have); a default gives way.
	From string
}

// Config maps fully qualified config keys to values.
type Config map[string]ConfigValue

// Output is one stack output.
type Output struct {
	// Value is the plain value (decoded JSON: string, float64, []any, ...).
	Value any
	// Secret marks a value that must not be printed.
	Secret bool
}

// Outputs are a stack's outputs by name.
type Outputs map[string]Output

// Result is what one operation on one layer did.
type Result struct {
	// Layer is the layer's name.
	Layer string
	// Changes counts resources by operation ("create", "update", "delete",
	// "replace", "same", ...), as Pulumi reports them.
	Changes map[string]int
	// Outputs are the stack's outputs after Up (empty for other operations).
	Outputs Outputs
	// Duration is the operation's wall time.
	Duration time.Duration
	// Steps are a preview's resource operations, in the engine's order.
	Steps []Step
	// Interrupted are the creates the stack's state records as begun and
	// never finished (after Preview and Destroy).
	Interrupted []PendingCreate
}

// Changed is the number of resources the operation created, updated,
// replaced or deleted (everything but "same").
func (r Result) Changed() int {
	n := 0
	for op, c := range r.Changes {
		if op != "same" {
			n += c
		}
	}
	return n
}

// SecretArnOutput is the output printed first in a deploy summary.
const SecretArnOutput = "secretArn"

// Orchestrator runs operations over the layers of one environment.
type Orchestrator struct {
	// Env is the target environment.
	Env Environment
	// Layers are the layers in deploy order (ops/layers.All).
	Layers []kit.Layer
	// Runner performs the Pulumi operations.
	Runner Runner
	// Out receives progress notes and the summary (nil: discarded).
	Out io.Writer
	// Confirm asks the operator before anything is destroyed, and once
	// per up or deployAll after the plans are shown; false or an error
	// stops. Nil refuses every destroy and every change, so a caller must
	// decide explicitly (see ConfirmFromEnv).
	Confirm func(ctx context.Context, prompt string) (bool, error)
	// ResumeCommand returns the command that resumes deployAll from layer
	// (nil: DefaultResumeCommand).
	ResumeCommand func(env, layer string) string
	// AllowReplace names the stateful resources (URNs or logical names)
	// whose replacement or deletion a plan may contain (ALLOW_REPLACE);
	// any other such plan is refused, with or without confirmation.
	AllowReplace []string
	// PlanOut, when set, receives every plan as Markdown (the vault command
	// points it at $GITHUB_STEP_SUMMARY).
	PlanOut io.Writer
	// Provides lists, by layer name, the outputs later layers read from
	// that layer's stack; up and preview of a layer check them on every
	// earlier stack first (nil: DefaultProvides).
	Provides map[string][]string

	// Trails, when set, finds the account's CloudTrail trails: before the
	// secrets layer runs without existingTrailName (and without
	// createTrail=true), a trail that records the account's management
	// events is seeded as existingTrailName (trail.go). Only the real
	// runner against AWS sets it; nil (tests, the rehearsal) looks nothing up.
	Trails CloudTrailAPI
	// ENIs, when set, finds the rotator's network interfaces: the secrets
	// layer's destroy then deletes the rotator first and waits, up to
	// ENIWait (0: DefaultENIWait), looking every ENIPoll (0:
	// DefaultENIPoll), until Lambda has released them, before it deletes
	// the rotator's role (eni.go). nil (tests, the rehearsal by default)
	// destroys the layer in one step.
	ENIs             NetworkInterfacesAPI
	ENIWait, ENIPoll time.Duration
	// Names, when set, looks up the names that a plan's creates of
	// NameInputs' types would take: one in use stops preview, up and
	// deployAll before anything of that layer changes (plan.go). nil
	// (tests) looks nothing up; the rehearsal gives a stand-in.
	Names *NameLookup

	// have caches the stacks' config during one operation (see begin).
	have map[string]map[string]string
	// orgResolved is set once the organisation has been asked for.
	orgResolved bool
	// trail caches the trail lookup of one operation (see trailSeed).
	trail *trailChoice
}

// OrgResolver is implemented by a Runner that knows its backend's
// organisation (Auto: "organization" on a self-managed backend, the
// login's organisation on Pulumi Cloud). Without PULUMI_ORG, the
// Orchestrator names every stack in that organisation.
type OrgResolver interface {
	Org(ctx context.Context) (string, error)
}

// resolveOrg takes the organisation from the runner unless PULUMI_ORG set it.
func (o *Orchestrator) resolveOrg(ctx context.Context) error {
	if o.orgResolved || o.Env.FromEnv[VarOrg] {
		return nil
	}
	r, ok := o.Runner.(OrgResolver)
	if !ok {
		return nil
	}
	org, err := r.Org(ctx)
	if err != nil {
		return fmt.Errorf("the backend's organisation (set PULUMI_ORG to name it): %w", err)
	}
	if org != "" && org != o.Env.Org {
		fmt.Fprintf(o.out(), "==> organisation %s, the backend's (PULUMI_ORG is not set)\n", org)
		o.Env.Org = org
	}
	o.orgResolved = true
	return nil
}

// DefaultProvides are the outputs each of the vault's layers exports for
// the layers after it.
var DefaultProvides = map[string][]string{
	"network":  {"vpcId", "privateSubnetIds", "availabilityZones", "rotatorSecurityGroupId", "databaseSecurityGroupId"},
	"kms":      {"databaseKeyArn", "secretsKeyArn", "logsKeyArn", "alertsKeyArn", "administrators"},
	"database": {"clusterIdentifier", "clusterEndpoint", "port", "masterUsername", "masterSecretArn", "dbName"},
}

// DefaultResumeCommand is the mage invocation that resumes deployAll.
func DefaultResumeCommand(env, layer string) string {
	return fmt.Sprintf("ENV=%s FROM=%s go run mage.go deployAll", env, layer)
}

// Summary is the outcome of DeployAll.
type Summary struct {
	// Results holds one entry per layer brought up, in order.
	Results []Result
	// SecretARN is the secrets layer's secretArn output ("" if absent).
	SecretARN string
}

func (o *Orchestrator) out() io.Writer {
	if o.Out == nil {
		return io.Discard
	}
	return o.Out
}

func (o *Orchestrator) check() error {
	if err := kit.ValidateSuffix(o.Env.Name); err != nil {
		return fmt.Errorf("ENV: %w", err)
	}
	if o.Runner == nil {
		return errors.New("deploy: no Runner")
	}
	if len(o.Layers) == 0 {
		return errors.New("deploy: no layers")
	}
	return nil
}

// index returns the position of the layer called name.
func (o *Orchestrator) index(name string) (int, error) {
	for i, l := range o.Layers {
		if l.Name == name {
			return i, nil
		}
	}
	names := make([]string, len(o.Layers))
	for i, l := range o.Layers {
		names[i] = l.Name
	}
	return -1, fmt.Errorf("unknown layer %q (layers: %s)", name, strings.Join(names, ", "))
}

// StackName is the fully qualified name of a layer's stack.
func (o *Orchestrator) StackName(l kit.Layer) string {
	return o.Env.FullyQualified(l.Project)
}

// DeployAll brings every layer up in order, starting at the layer named from
// ("" = the first), after showing every plan that can be computed and asking
// once (a layer whose plan could not be computed yet is previewed, and
// refused if it would destroy data, right before its up).
//
// In detail: layers before from must exist already, with the outputs
// the later layers read. Before anything changes, every layer's config is
// checked against its stack (an explicit value the stack does not have
// stops the run). It stops at the first failure with an error naming the
// layer and the command that resumes from it, and prints a summary of the
// outputs (the secret ARN first).
func (o *Orchestrator) DeployAll(ctx context.Context, from string) (Summary, error) {
	if err := o.check(); err != nil {
		return Summary{}, err
	}
	start := 0
	if from != "" {
		i, err := o.index(from)
		if err != nil {
			return Summary{}, fmt.Errorf("FROM: %w", err)
		}
		start = i
	}
	if err := o.begin(ctx); err != nil {
		return Summary{}, err
	}
	if err := o.predecessors(ctx, start, fmt.Sprintf("deployAll FROM=%s", from)); err != nil {
		return Summary{}, err
	}
	for i := start; i < len(o.Layers); i++ {
		if _, err := o.config(ctx, i); err != nil {
			return Summary{}, err
		}
	}
	// Every plan that can be computed now (a layer whose predecessors are
	// not deployed yet cannot resolve its references), then one question.
	plans := map[int]Result{}
	var pending []string
	var shown []Result
	for i := start; i < len(o.Layers); i++ {
		if i > start && o.predecessors(ctx, i, "plan") != nil {
			for _, l := range o.Layers[i:] {
				pending = append(pending, l.Name)
			}
			fmt.Fprintf(o.out(), "==> %s: plan computed once the layers before it are up\n", strings.Join(pending, ", "))
			break
		}
		res, err := o.plan(ctx, i)
		if err != nil {
			return Summary{}, err
		}
		plans[i] = res
		shown = append(shown, res)
	}
	if err := o.approve(ctx, shown, pending); err != nil {
		return Summary{}, err
	}
	var sum Summary
	changed := false // an earlier layer changed in this run: later plans are stale
	for i, l := range o.Layers {
		if i < start {
			fmt.Fprintf(o.out(), "==> %s: skipped (resuming from %s)\n", l.Name, from)
			continue
		}
		if _, ok := plans[i]; !ok || changed {
			if _, err := o.plan(ctx, i); err != nil {
				return sum, &LayerError{Layer: l.Name, Op: "plan", Resume: o.resume(l.Name), Err: err}
			}
		}
		fmt.Fprintf(o.out(), "==> %s: up (stack %s)\n", l.Name, o.StackName(l))
		res, err := o.up(ctx, i)
		if err != nil {
			return sum, &LayerError{Layer: l.Name, Op: "up", Resume: o.resume(l.Name), Err: err}
		}
		changed = changed || res.Changed() > 0
		sum.Results = append(sum.Results, res)
		fmt.Fprintf(o.out(), "==> %s: done in %s (%s)\n", l.Name, res.Duration.Round(time.Millisecond), changeText(res.Changes))
	}
	for _, r := range sum.Results {
		if v, ok := r.Outputs[SecretArnOutput]; ok && !v.Secret {
			sum.SecretARN = fmt.Sprint(v.Value)
		}
	}
	o.printSummary(sum)
	return sum, nil
}

// begin starts an operation: it reads every layer's stack config once
// and takes, for each seed the environment did not set explicitly (region,
// tag values), the value the earliest existing stack has, so a later run
// without AWS_REGION deploys where the stacks are, and a new layer's stack
// gets the same region and tags as the layers before it.
func (o *Orchestrator) begin(ctx context.Context) error {
	if err := o.resolveOrg(ctx); err != nil {
		return err
	}
	o.have = map[string]map[string]string{}
	o.trail = nil
	for _, l := range o.Layers {
		values, ok, err := o.Runner.Config(ctx, l, o.StackName(l))
		if err != nil {
			return fmt.Errorf("reading the config of layer %s (stack %s): %w", l.Name, o.StackName(l), err)
		}
		if ok && values == nil {
			values = map[string]string{}
		}
		o.have[l.Name] = values
	}
	adopt := func(variable string, field *string, key func(kit.Layer) string) {
		if o.Env.FromEnv[variable] {
			return
		}
		for _, l := range o.Layers {
			if v, ok := o.have[l.Name][key(l)]; ok && v != "" {
				if v != *field {
					fmt.Fprintf(o.out(), "==> %s %s, from stack %s (%s is not set)\n", key(l), v, o.StackName(l), variable)
				}
				*field = v
				return
			}
		}
	}
	adopt(VarRegion, &o.Env.Region, func(kit.Layer) string { return "aws:region" })
	adopt(VarEnvironment, &o.Env.Tags.Environment, func(l kit.Layer) string { return l.Project + ":environment" })
	adopt(VarCostCenter, &o.Env.Tags.CostCenter, func(l kit.Layer) string { return l.Project + ":costCenter" })
	adopt(VarCompliance, &o.Env.Tags.Compliance, func(l kit.Layer) string { return l.Project + ":compliance" })
	return nil
}

// exists reports whether layer l's stack existed when the operation began.
func (o *Orchestrator) exists(l kit.Layer) bool { return o.have[l.Name] != nil }

// predecessors checks, before layer i runs alone (up:<layer>, preview,
// deployAll FROM=), that every earlier layer's stack exists and has the
// outputs the later layers read; the error names the command to run first.
func (o *Orchestrator) predecessors(ctx context.Context, i int, what string) error {
	provides := o.Provides
	if provides == nil {
		provides = DefaultProvides
	}
	l := o.Layers[i]
	for _, prev := range o.Layers[:i] {
		first := fmt.Sprintf("ENV=%s go run mage.go up:%s", o.Env.Name, prev.Name)
		if !o.exists(prev) {
			return fmt.Errorf("%s refused: layer %s needs layer %s first, and stack %s does not exist; nothing was changed. Run first: %s (or ENV=%s go run mage.go deployAll for every layer)",
				what, l.Name, prev.Name, o.StackName(prev), first, o.Env.Name)
		}
		need := provides[prev.Name]
		if len(need) == 0 {
			continue
		}
		outs, err := o.Runner.Outputs(ctx, prev, o.StackName(prev))
		if err != nil {
			return fmt.Errorf("reading the outputs of layer %s (stack %s): %w", prev.Name, o.StackName(prev), err)
		}
		var missing []string
		for _, k := range need {
			if v, ok := outs[k]; !ok || v.Value == nil || v.Value == "" {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("%s refused: layer %s reads outputs of layer %s that stack %s does not have (%s); nothing was changed. Run first: %s",
				what, l.Name, prev.Name, o.StackName(prev), strings.Join(missing, ", "), first)
		}
	}
	return nil
}

// ConfigConflictError is a layer whose stack has config values other than
// those the environment's variables ask for. The stack's values stay.
type ConfigConflictError struct {
	// Layer and Stack name the layer and its fully qualified stack.
	Layer, Stack string
	// Conflicts are the keys that disagree, one message each.
	Conflicts []string
}

func (e *ConfigConflictError) Error() string {
	return fmt.Sprintf("the config of stack %s (layer %s) disagrees with the environment; nothing was changed, and a stack's value is never overwritten:\n  - %s",
		e.Stack, e.Layer, strings.Join(e.Conflicts, "\n  - "))
}

func (o *Orchestrator) resume(layer string) string {
	if o.ResumeCommand != nil {
		return o.ResumeCommand(o.Env.Name, layer)
	}
	return DefaultResumeCommand(o.Env.Name, layer)
}

// LayerError is the failure of one layer; its message names the layer and,
// for deployAll, the command that resumes from it.
type LayerError struct {
	// Layer is the failed layer's name.
	Layer string
	// Op is the operation (up, preview, destroy).
	Op string
	// Resume is the command that resumes (may be empty).
	Resume string
	// Err is the runner's error.
	Err error
}

func (e *LayerError) Error() string {
	msg := fmt.Sprintf("layer %s failed (%s): %v", e.Layer, e.Op, e.Err)
	if e.Resume != "" {
		msg += "\nfix the cause above, then resume from this layer with:\n  " + e.Resume
	}
	return msg
}

func (e *LayerError) Unwrap() error { return e.Err }

// up runs Up on layer i with its configuration.
func (o *Orchestrator) up(ctx context.Context, i int) (Result, error) {
	l := o.Layers[i]
	cfg, err := o.config(ctx, i)
	if err != nil {
		return Result{}, err
	}
	res, err := o.Runner.Up(ctx, l, o.StackName(l), cfg)
	res.Layer = l.Name
	if err == nil {
		// The stack now holds the seeds (and exists).
		values, ok, cerr := o.Runner.Config(ctx, l, o.StackName(l))
		if cerr == nil && ok {
			if values == nil {
				values = map[string]string{}
			}
			o.have[l.Name] = values
		}
	}
	return res, err
}

// configPresent refuses a deployed stack whose config has no
// environmentSuffix, which every up writes: its file
// (stacks/<layer>/Pulumi.<ENV>.yaml, where Pulumi keeps a stack's config)
// is missing from this checkout. Deployed with the seeds alone, the stack
// would lose every value only that file held (environmentClass:
// production with its protections, administrators, appUsers, an existing
// VPC or cluster). A stack a first preview created holds no resource and
// passes.
func (o *Orchestrator) configPresent(ctx context.Context, l kit.Layer, have map[string]string) error {
	if have == nil {
		return nil
	}
	if _, ok := have[l.Project+":environmentSuffix"]; ok {
		return nil
	}
	deployed, err := o.Runner.Deployed(ctx, l, o.StackName(l))
	if err != nil || !deployed {
		return err
	}
	return fmt.Errorf("layer %s refused: stack %s is deployed, but its config has no %s:environmentSuffix, which every up writes: stacks/%s/Pulumi.%s.yaml is missing from this checkout (or was emptied), and a deploy with the defaults alone would drop every setting it held (environmentClass, administrators, appUsers, ...); restore the file from version control, then run the command again",
		l.Name, o.StackName(l), l.Project, l.Name, o.Env.Name)
}

// regionConflict is the refusal of an AWS_REGION that names another region
// than an existing stack of the environment, nil otherwise. The layers of
// an environment share one region: a destroy would otherwise wait for the
// rotator's network interfaces in the wrong region and delete its role at
// once (eni.go), and a new layer's stack would land in another region than
// those before it. (A layer whose own stack disagrees is refused by config,
// with every other conflict of that stack.)
func (o *Orchestrator) regionConflict() error {
	if !o.Env.FromEnv[VarRegion] {
		return nil
	}
	for _, l := range o.Layers {
		if v := o.have[l.Name]["aws:region"]; v != "" && v != o.Env.Region {
			return &ConfigConflictError{Layer: l.Name, Stack: o.StackName(l), Conflicts: []string{fmt.Sprintf(
				"aws:region is %s in the stack, but AWS_REGION=%s; the layers of an environment share one region: unset AWS_REGION to use the stacks'", quote(v), quote(o.Env.Region))}}
		}
	}
	return nil
}

// config is the configuration layer i gets, checked against the config its
// stack has (read by begin): a value given by an environment variable that
// the stack has otherwise stops with a *ConfigConflictError.
func (o *Orchestrator) config(ctx context.Context, i int) (Config, error) {
	l := o.Layers[i]
	cfg := LayerConfig(o.Env, o.Layers, i)
	have := o.have[l.Name]
	if have["aws:region"] == "" {
		// A new stack, or one a first preview created (its config holds
		// no region yet): its region must be the environment's.
		if err := o.regionConflict(); err != nil {
			return nil, err
		}
	}
	if err := o.configPresent(ctx, l, have); err != nil {
		return nil, err
	}
	if err := o.trailSeed(ctx, l, have, cfg); err != nil {
		return nil, err
	}
	var conflicts []string
	for _, k := range slices.Sorted(maps.Keys(cfg)) {
		v := cfg[k]
		cur, ok := have[k]
		if !ok || cur == v.Value || v.From == "" {
			continue
		}
		set := fmt.Sprintf("(cd stacks/%s && pulumi config set %s %s --stack %s)", l.Name, k, quote(v.Value), o.StackName(l))
		switch v.From {
		case "ENV":
			conflicts = append(conflicts, fmt.Sprintf("%s is %s in the stack, but ENV=%s gives %s; to change it deliberately: %s",
				k, quote(cur), o.Env.Name, quote(v.Value), set))
		default:
			conflicts = append(conflicts, fmt.Sprintf("%s is %s in the stack, but %s=%s; either unset %s to keep the stack's value, or change the stack deliberately: %s",
				k, quote(cur), v.From, envValue(o.Env, v.From, v.Value), v.From, set))
		}
	}
	if len(conflicts) > 0 {
		return nil, &ConfigConflictError{Layer: l.Name, Stack: o.StackName(l), Conflicts: conflicts}
	}
	return cfg, nil
}

// envValue is the value of variable as the operator set it.
func envValue(env Environment, variable, derived string) string {
	if variable == VarOrg {
		return env.Org
	}
	return derived
}

// quote renders a config value for a message or a shell command.
func quote(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\n'\"$`\\;&|<>()*?[]{}#~") {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// LayerConfig is the configuration of layer i of layers for env: its
// environmentSuffix, the region, the tag values and the fully qualified
// names of the stacks of every earlier layer (<name>Stack), so each layer
// finds the stacks it references whatever backend holds them. These only
// seed a new stack's config; each value records the variable it came from
// (ConfigValue.From) when the operator set one.
func LayerConfig(env Environment, layers []kit.Layer, i int) Config {
	p := layers[i].Project
	cfg := Config{
		p + ":environmentSuffix": {Value: env.Name, From: "ENV"},
		"aws:region":             {Value: env.Region, From: env.from(VarRegion)},
		p + ":environment":       {Value: env.Tags.Environment, From: env.from(VarEnvironment)},
		p + ":costCenter":        {Value: env.Tags.CostCenter, From: env.from(VarCostCenter)},
		p + ":compliance":        {Value: env.Tags.Compliance, From: env.from(VarCompliance)},
	}
	for _, prev := range layers[:i] {
		cfg[p+":"+prev.Name+"Stack"] = ConfigValue{Value: env.FullyQualified(prev.Project), From: env.from(VarOrg)}
	}
	return cfg
}

// Up brings one layer up (the `up:<layer>` target). Every earlier layer's
// stack must exist with the outputs this layer reads: otherwise nothing is
// created and the error names the command to run first. It previews first,
// prints the plan, refuses a plan that replaces or deletes a stateful
// resource AllowReplace does not name, and asks (Confirm) when the plan
// changes anything.
func (o *Orchestrator) Up(ctx context.Context, layer string) (Result, error) {
	i, err := o.ready(ctx, "up", layer)
	if err != nil {
		return Result{}, err
	}
	plan, err := o.plan(ctx, i)
	if err != nil {
		return Result{}, err
	}
	if err := o.approve(ctx, []Result{plan}, nil); err != nil {
		return Result{}, err
	}
	fmt.Fprintf(o.out(), "==> %s: up (stack %s)\n", layer, o.StackName(o.Layers[i]))
	res, err := o.up(ctx, i)
	if err != nil {
		return res, &LayerError{Layer: layer, Op: "up", Err: err}
	}
	o.printOutputs(o.Layers[i], res.Outputs)
	return res, nil
}

// Preview previews one layer (the `preview:<layer>` target), checking its
// predecessors as Up does. It writes nothing to the stack's config.
func (o *Orchestrator) Preview(ctx context.Context, layer string) (Result, error) {
	i, err := o.ready(ctx, "preview", layer)
	if err != nil {
		return Result{}, err
	}
	return o.preview(ctx, i)
}

// ready is the index of layer once the orchestrator is checked, the stacks'
// config read (begin) and the layer's predecessors found deployed, as the
// target op:<layer> needs them.
func (o *Orchestrator) ready(ctx context.Context, op, layer string) (int, error) {
	if err := o.check(); err != nil {
		return -1, err
	}
	i, err := o.index(layer)
	if err != nil {
		return -1, err
	}
	if err := o.begin(ctx); err != nil {
		return -1, err
	}
	return i, o.predecessors(ctx, i, op+":"+layer)
}

func (o *Orchestrator) preview(ctx context.Context, i int) (Result, error) {
	l := o.Layers[i]
	cfg, err := o.config(ctx, i)
	if err != nil {
		return Result{}, err
	}
	fmt.Fprintf(o.out(), "==> %s: preview (stack %s)\n", l.Name, o.StackName(l))
	res, err := o.Runner.Preview(ctx, l, o.StackName(l), cfg)
	res.Layer = l.Name
	if err != nil {
		return res, &LayerError{Layer: l.Name, Op: "preview", Err: err}
	}
	fmt.Fprintf(o.out(), "==> %s: %s\n", l.Name, changeText(res.Changes))
	o.printPlan(res)
	if len(res.Interrupted) > 0 {
		return res, &InterruptedError{Layer: l.Name, Stack: o.StackName(l), Creates: res.Interrupted}
	}
	return res, o.namesInUse(ctx, l, res.Steps)
}

// PreviewAll previews every layer in order. A layer whose predecessors are
// not deployed yet cannot resolve its stack references, so it stops there
// with a note (not an error): the plans before it are all that can be
// computed.
func (o *Orchestrator) PreviewAll(ctx context.Context) ([]Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if err := o.begin(ctx); err != nil {
		return nil, err
	}
	var out []Result
	for i, l := range o.Layers {
		if err := o.predecessors(ctx, i, "preview:"+l.Name); err != nil {
			fmt.Fprintf(o.out(), "==> %s and later: not previewed: %v\n", l.Name, err)
			return out, nil
		}
		res, err := o.preview(ctx, i)
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

// Outputs returns (and prints) one layer's outputs (`outputs:<layer>`).
func (o *Orchestrator) Outputs(ctx context.Context, layer string) (Outputs, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	i, err := o.index(layer)
	if err != nil {
		return nil, err
	}
	if err := o.resolveOrg(ctx); err != nil {
		return nil, err
	}
	l := o.Layers[i]
	ok, err := o.Runner.Exists(ctx, l, o.StackName(l))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("layer %s: stack %s does not exist; deploy it first (ENV=%s go run mage.go up:%s)", l.Name, o.StackName(l), o.Env.Name, l.Name)
	}
	outs, err := o.Runner.Outputs(ctx, l, o.StackName(l))
	if err != nil {
		return nil, err
	}
	o.printOutputs(l, outs)
	return outs, nil
}

// Destroy destroys one layer (`destroy:<layer>`) after confirmation. It
// refuses while a later layer is still deployed, since that layer
// references this one's resources (a VPC cannot go while the cluster sits
// in it). A later layer's stack that a destroy emptied, or a preview
// created, does not count: it stays, empty, after destroy:<later>.
func (o *Orchestrator) Destroy(ctx context.Context, layer string) error {
	if err := o.check(); err != nil {
		return err
	}
	i, err := o.index(layer)
	if err != nil {
		return err
	}
	if err := o.begin(ctx); err != nil {
		return err
	}
	if err := o.regionConflict(); err != nil {
		return err
	}
	for _, later := range o.Layers[i+1:] {
		ok, err := o.Runner.Deployed(ctx, later, o.StackName(later))
		if err != nil {
			return err
		}
		if ok {
			return fmt.Errorf("destroy %s refused: layer %s (stack %s) is still deployed and references it; destroy %s first, or run ENV=%s go run mage.go destroyAll",
				layer, later.Name, o.StackName(later), later.Name, o.Env.Name)
		}
	}
	return o.destroy(ctx, o.Layers[i:i+1])
}

// DestroyAll destroys every layer in reverse order after one confirmation;
// layers whose stack does not exist are skipped with a note.
func (o *Orchestrator) DestroyAll(ctx context.Context) error {
	if err := o.check(); err != nil {
		return err
	}
	if err := o.begin(ctx); err != nil {
		return err
	}
	if err := o.regionConflict(); err != nil {
		return err
	}
	return o.destroy(ctx, o.Layers)
}

// destroy destroys layers in reverse order.
func (o *Orchestrator) destroy(ctx context.Context, layers []kit.Layer) error {
	rev := slices.Clone(layers)
	slices.Reverse(rev)
	var present []kit.Layer
	for _, l := range rev {
		ok, err := o.Runner.Exists(ctx, l, o.StackName(l))
		if err != nil {
			return fmt.Errorf("checking layer %s: %w", l.Name, err)
		}
		if !ok {
			fmt.Fprintf(o.out(), "==> %s: stack %s does not exist; skipped\n", l.Name, o.StackName(l))
			continue
		}
		present = append(present, l)
	}
	if len(present) == 0 {
		fmt.Fprintf(o.out(), "nothing to destroy in environment %s\n", o.Env.Name)
		return nil
	}
	names := make([]string, len(present))
	for i, l := range present {
		names[i] = l.Name
	}
	prompt := fmt.Sprintf("Destroy every resource of %s in environment %q (region %s), in this order?", strings.Join(names, ", "), o.Env.Name, o.Env.Region)
	if prod := o.production(present); len(prod) > 0 {
		fmt.Fprint(o.out(), ProductionDestroyNotice(o.Env.Name, prod))
	}
	if o.Confirm == nil {
		return errors.New("destroy needs confirmation: run it on a terminal, or set CONFIRM=yes (or CI=true)")
	}
	ok, err := o.Confirm(ctx, prompt)
	if err != nil {
		return fmt.Errorf("confirmation: %w", err)
	}
	if !ok {
		return errors.New("destroy cancelled: nothing was changed")
	}
	var left []string
	for _, l := range present {
		fmt.Fprintf(o.out(), "==> %s: destroy (stack %s)\n", l.Name, o.StackName(l))
		err := o.releaseRotator(ctx, l)
		var res Result
		if err == nil {
			res, err = o.Runner.Destroy(ctx, l, o.StackName(l))
		}
		if err != nil {
			return &LayerError{Layer: l.Name, Op: "destroy", Err: err,
				Resume: fmt.Sprintf("ENV=%s go run mage.go destroyAll", o.Env.Name)}
		}
		fmt.Fprintf(o.out(), "==> %s: destroyed in %s (%s)\n", l.Name, res.Duration.Round(time.Millisecond), changeText(res.Changes))
		if o.leftBehind(l, res) {
			left = append(left, l.Name)
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("destroyed, but the stacks of %s record creates an interrupted run began, which may remain in AWS (listed above)", strings.Join(left, ", "))
	}
	return nil
}

// printSummary prints the secret ARN first, then every layer's outputs,
// and last the command that verifies the deploy.
func (o *Orchestrator) printSummary(sum Summary) {
	w := o.out()
	fmt.Fprintf(w, "\nEnvironment %s deployed.\n", o.Env.Name)
	if sum.SecretARN != "" {
		fmt.Fprintf(w, "  secretArn: %s\n", sum.SecretARN)
	}
	for _, r := range sum.Results {
		for _, l := range o.Layers {
			if l.Name == r.Layer {
				o.printOutputs(l, r.Outputs)
			}
		}
	}
	fmt.Fprintf(w, "Verify it (read-only, one PASS/FAIL line per check): ENV=%s go run mage.go verify\n", o.Env.Name)
}

// printOutputs prints outputs sorted by name, secrets masked.
func (o *Orchestrator) printOutputs(l kit.Layer, outs Outputs) {
	w := o.out()
	fmt.Fprintf(w, "%s (%s):\n", l.Name, o.StackName(l))
	for _, k := range slices.Sorted(maps.Keys(outs)) {
		fmt.Fprintf(w, "  %s: %s\n", k, FormatOutput(outs[k]))
	}
}

// FormatOutput renders an output for a terminal; a secret is "[secret]".
func FormatOutput(v Output) string {
	if v.Secret {
		return "[secret]"
	}
	switch x := v.Value.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ", ")
	default:
		return fmt.Sprint(x)
	}
}

// changeText renders change counts as "create 3, same 2" (sorted).
func changeText(ch map[string]int) string {
	if len(ch) == 0 {
		return "no changes"
	}
	parts := make([]string, 0, len(ch))
	for _, k := range slices.Sorted(maps.Keys(ch)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, ch[k]))
	}
	return strings.Join(parts, ", ")
}
