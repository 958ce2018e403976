package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"gopkg.in/yaml.v3"

	"github.com/dbvault/dbvault/stacks/kit"
)

// Auto is the Runner on the Pulumi Automation API. Each layer runs as an
// inline program (the process hosts layer.Program itself, so no Go language
// plugin is needed) as the stack the Orchestrator names fully qualified
// (<org>/<project>/<env>, see Org) of project layer.Project, in the work
// directory StacksDir/<layer.Name>: in the repository that is stacks/<layer>,
// so `pulumi up` run there by the owning team reads and writes the same
// Pulumi.<env>.yaml and the same stack in the same backend.
//
// Every setting is a field: a rehearsal swaps BackendURL, EnvVars (a PATH
// that finds a stand-in pulumi-resource-aws), StacksDir and PulumiRoot.
// The zero value is not usable: StacksDir and BackendURL are required.
// Set the fields before the first call: a stack, once selected, keeps the
// settings it was selected with.
type Auto struct {
	// StacksDir holds one folder per layer, named after it (the repo's
	// stacks/). A folder with a Pulumi.yaml keeps it; otherwise Pulumi's
	// default inline project is written there.
	StacksDir string
	// BackendURL is the state backend (PULUMI_BACKEND_URL), e.g.
	// file:///repo/.pulumi-state or s3://bucket. A file:// directory is
	// created when missing.
	BackendURL string
	// SecretsProvider, when set, is the secrets provider of new stacks
	// (e.g. awskms://alias/pulumi-state); empty means the passphrase
	// provider (PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE).
	SecretsProvider string
	// EnvVars are added to the environment of every Pulumi CLI command (and
	// of the plugins it starts); they win over the process environment.
	EnvVars map[string]string
	// PulumiRoot, when set, is the directory whose bin/pulumi is used
	// instead of the pulumi found on PATH.
	PulumiRoot string
	// PulumiHome, when set, replaces ~/.pulumi (plugins, credentials).
	PulumiHome string
	// Progress receives Pulumi's progress output (nil: discarded).
	Progress io.Writer

	once   sync.Once
	cmd    auto.PulumiCommand
	cmdErr error

	mu     sync.Mutex
	stacks map[string]auto.Stack // stacks known to exist, by work directory and name
}

// pulumi finds the CLI once, with an error that says what to do.
func (a *Auto) pulumi() (auto.PulumiCommand, error) {
	a.once.Do(func() {
		a.cmd, a.cmdErr = newPulumiCommand(a.PulumiRoot)
		if a.cmdErr != nil {
			a.cmdErr = fmt.Errorf("%s (%w)", MissingPulumi, a.cmdErr)
		}
	})
	return a.cmd, a.cmdErr
}

// options are the workspace options of layer l.
func (a *Auto) options(l kit.Layer) ([]auto.LocalWorkspaceOption, error) {
	if a.StacksDir == "" || a.BackendURL == "" {
		return nil, errors.New("deploy.Auto: StacksDir and BackendURL are required")
	}
	cmd, err := a.pulumi()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(a.StacksDir, l.Name)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("work directory of %s: %w", l.Name, err)
	}
	if path, ok := strings.CutPrefix(a.BackendURL, "file://"); ok {
		if err := os.MkdirAll(path, 0o750); err != nil {
			return nil, fmt.Errorf("state directory %s: %w", path, err)
		}
	}
	env := map[string]string{
		"PULUMI_BACKEND_URL":       a.BackendURL,
		"PULUMI_SKIP_UPDATE_CHECK": "true",
	}
	maps.Copy(env, a.EnvVars)
	opts := []auto.LocalWorkspaceOption{auto.WorkDir(dir), auto.EnvVars(env), auto.Pulumi(cmd)}
	if a.SecretsProvider != "" {
		opts = append(opts, auto.SecretsProvider(a.SecretsProvider))
	}
	if a.PulumiHome != "" {
		opts = append(opts, auto.PulumiHome(a.PulumiHome))
	}
	return opts, nil
}

func (a *Auto) progress() io.Writer {
	if a.Progress == nil {
		return io.Discard
	}
	return a.Progress
}

// Exists reports whether the layer's stack exists in the backend. stack
// is the fully qualified name (<org>/<project>/<stack>) the Orchestrator
// passes to every method, so a Pulumi Cloud backend selects the stack of
// that organisation, not of the login's default one.
func (a *Auto) Exists(ctx context.Context, l kit.Layer, stack string) (bool, error) {
	_, ok, err := a.stack(ctx, l, stack, false)
	return ok, err
}

// Deployed reports whether the layer's stack exists and holds a resource
// other than the stack itself and its providers, read from the state
// without decrypting it (StackState). A resource marked for deletion (a
// replacement's old one, not yet deleted) and an operation an interrupted
// run left pending (a create that may exist in AWS) count as deployed.
func (a *Auto) Deployed(ctx context.Context, l kit.Layer, stack string) (bool, error) {
	s, ok, err := a.stack(ctx, l, stack, false)
	if err != nil || !ok {
		return false, err
	}
	d, err := StackState(ctx, s)
	if err != nil {
		return false, fmt.Errorf("stack %s: %w", stack, err)
	}
	if len(d.PendingOperations) > 0 {
		return true, nil
	}
	for _, r := range d.Resources {
		t := string(r.Type)
		if t != "pulumi:pulumi:Stack" && !strings.HasPrefix(t, "pulumi:providers:") {
			return true, nil
		}
	}
	return false, nil
}

// UpsertStack returns the layer's stack, creating it when it does not
// exist, in the work directory and backend of every other method: the
// handle for what this runner does not offer (`pulumi stack export`,
// setting config).
func (a *Auto) UpsertStack(ctx context.Context, l kit.Layer, stack string) (auto.Stack, error) {
	s, _, err := a.stack(ctx, l, stack, true)
	return s, err
}

// stack selects the layer's stack (creating it when create is set); ok is
// false when it does not exist and create is not set. A stack once
// selected is kept: each selection is a run of the CLI (`pulumi stack
// select`, a round trip to the backend), and one deployAll asks for the
// same four stacks dozens of times. Nothing here removes a stack (Destroy
// keeps it, as `pulumi destroy` does), so a kept stack stays valid unless
// someone removes it meanwhile, which the next command on it reports.
func (a *Auto) stack(ctx context.Context, l kit.Layer, stack string, create bool) (auto.Stack, bool, error) {
	key := filepath.Join(a.StacksDir, l.Name) + "\x00" + stack
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.stacks[key]; ok {
		return s, true, nil
	}
	opts, err := a.options(l)
	if err != nil {
		return auto.Stack{}, false, err
	}
	var s auto.Stack
	if create {
		s, err = auto.UpsertStackInlineSource(ctx, stack, l.Project, l.Program, opts...)
	} else {
		s, err = auto.SelectStackInlineSource(ctx, stack, l.Project, l.Program, opts...)
	}
	switch {
	case err == nil:
	case !create && auto.IsSelectStack404Error(err):
		return auto.Stack{}, false, nil
	case create:
		return auto.Stack{}, false, fmt.Errorf("creating or selecting stack %s: %w", stack, short(err))
	default:
		return auto.Stack{}, false, fmt.Errorf("selecting stack %s: %w", stack, short(err))
	}
	if a.stacks == nil {
		a.stacks = map[string]auto.Stack{}
	}
	a.stacks[key] = s
	return s, true, nil
}

// SelfManaged reports whether backend is a self-managed (DIY) backend:
// file://, s3://, gs://, azblob:// or postgres://. Everything else is a
// Pulumi Cloud (or Pulumi Cloud-compatible) service.
func SelfManaged(backend string) bool {
	for _, p := range []string{"file://", "s3://", "gs://", "azblob://", "postgres://"} {
		if strings.HasPrefix(backend, p) {
			return true
		}
	}
	return false
}

// Org is the organisation of the backend's fully qualified stack names:
// DefaultOrg on a self-managed backend (it knows no other), else the
// login's default organisation (`pulumi org get-default`), else the
// login's own account (`pulumi whoami`), which is where Pulumi Cloud puts
// a stack named without an organisation. PULUMI_ORG, when set, wins over
// this (the Orchestrator asks only when it is not set).
func (a *Auto) Org(ctx context.Context) (string, error) {
	if SelfManaged(a.BackendURL) {
		return DefaultOrg, nil
	}
	opts, err := a.options(kit.Layer{}) // StacksDir itself: no project needed
	if err != nil {
		return "", err
	}
	ws, err := auto.NewLocalWorkspace(ctx, opts...)
	if err != nil {
		return "", fmt.Errorf("pulumi workspace: %w", short(err))
	}
	if org, err := ws.OrgGetDefault(ctx); err == nil && defaultOrgSet(org) {
		return strings.TrimSpace(org), nil
	}
	who, err := ws.WhoAmIDetails(ctx)
	if err != nil {
		return "", fmt.Errorf("the organisation of backend %s (pulumi whoami; run `pulumi login` or set PULUMI_ORG): %w", RedactedURL(a.BackendURL), short(err))
	}
	if who.User == "" {
		return "", fmt.Errorf("backend %s names no user (pulumi whoami): set PULUMI_ORG", RedactedURL(a.BackendURL))
	}
	return who.User, nil
}

// noDefaultOrg is what `pulumi org get-default` prints, exiting 0, when
// the login has no default organisation (pkg/cmd/pulumi/org/org.go).
const noDefaultOrg = "No Default Org Specified"

// defaultOrgSet reports whether `pulumi org get-default` printed an
// organisation: not empty, and not the sentence it prints when there is
// none, which would otherwise become the organisation of every stack name.
func defaultOrgSet(out string) bool {
	out = strings.TrimSpace(out)
	return out != "" && out != noDefaultOrg
}

// Config returns the stack's config values; ok is false when the stack
// does not exist (nothing is created).
func (a *Auto) Config(ctx context.Context, l kit.Layer, stack string) (map[string]string, bool, error) {
	s, ok, err := a.stack(ctx, l, stack, false)
	if err != nil || !ok {
		return nil, false, err
	}
	have, err := a.stackConfig(ctx, s)
	if err != nil {
		return nil, false, err
	}
	values := make(map[string]string, len(have))
	for k, v := range have {
		values[k] = v.Value
	}
	return values, true, nil
}

// upsert creates or selects the stack and returns the keys of cfg that the
// stack lacks: only those may be set (a value the stack has is the stack's).
func (a *Auto) upsert(ctx context.Context, l kit.Layer, stack string, cfg Config) (auto.Stack, auto.ConfigMap, error) {
	s, err := a.UpsertStack(ctx, l, stack)
	if err != nil {
		return auto.Stack{}, nil, err
	}
	have, err := a.stackConfig(ctx, s)
	if err != nil {
		return auto.Stack{}, nil, err
	}
	absent := auto.ConfigMap{}
	for k, v := range cfg {
		if _, ok := have[k]; !ok {
			absent[k] = auto.ConfigValue{Value: v.Value, Secret: v.Secret}
		}
	}
	return s, absent, nil
}

// stackConfig is the stack's own config: what `pulumi config` shows
// (the stack's file, its ESC environments) without the defaults that only
// the project file declares. Pulumi adds those to every listing, so
// without this a declared default (costCenter, networkStack) would look
// like the stack's value and the seed would never be written.
func (a *Auto) stackConfig(ctx context.Context, s auto.Stack) (auto.ConfigMap, error) {
	have, err := s.GetAllConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading config (check the passphrase or secrets provider): %w", short(err))
	}
	proj, err := s.Workspace().ProjectSettings(ctx)
	if err != nil || proj == nil || len(proj.Config) == 0 {
		return have, nil //nolint:nilerr // no project file: nothing declared
	}
	own := map[string]bool{}
	if st, err := s.Workspace().StackSettings(ctx, s.Name()); err == nil && st != nil {
		for k := range st.Config {
			own[k.String()] = true
		}
	}
	return withoutProjectDefaults(have, proj.Name.String(), proj.Config, own), nil
}

// withoutProjectDefaults removes from have every key that the project
// declares with a default, that the stack's file does not set (own), and
// whose value is that default: a value only the project file gives. A
// value from elsewhere (an ESC environment) that differs from the default
// stays the stack's.
func withoutProjectDefaults(have auto.ConfigMap, project string, declared map[string]workspace.ProjectConfigType, own map[string]bool) auto.ConfigMap {
	out := auto.ConfigMap{}
	for k, v := range have {
		out[k] = v
	}
	for name, decl := range declared {
		if decl.Default == nil {
			continue
		}
		key := name
		if !strings.Contains(key, ":") {
			key = project + ":" + name
		}
		v, ok := out[key]
		if !ok || own[key] {
			continue
		}
		if def, isString := decl.Default.(string); isString && v.Value != def {
			continue
		}
		delete(out, key)
	}
	return out
}

// Up deploys the layer.
func (a *Auto) Up(ctx context.Context, l kit.Layer, stack string, cfg Config) (Result, error) {
	start := time.Now()
	s, absent, err := a.upsert(ctx, l, stack, cfg)
	if err != nil {
		return Result{}, err
	}
	// The error carries the CLI's exit status and stderr, never the
	// arguments (which hold the values, secrets included).
	if len(absent) > 0 {
		if err := s.SetAllConfig(ctx, absent); err != nil {
			return Result{}, fmt.Errorf("setting config (check the passphrase or secrets provider): %w", short(err))
		}
	}
	res, err := s.Up(ctx, optup.ProgressStreams(a.progress()), optup.ErrorProgressStreams(a.progress()))
	if err != nil {
		return Result{}, fmt.Errorf("pulumi up: %w", short(err))
	}
	out := Result{Layer: l.Name, Duration: time.Since(start), Outputs: outputs(res.Outputs)}
	if res.Summary.ResourceChanges != nil {
		out.Changes = maps.Clone(*res.Summary.ResourceChanges)
	}
	return out, nil
}

// Preview previews the layer. The seeds the stack lacks go into a copy of
// its config file that only this preview reads (--config-file), so a
// preview writes nothing to the stack's config.
func (a *Auto) Preview(ctx context.Context, l kit.Layer, stack string, cfg Config) (Result, error) {
	start := time.Now()
	s, absent, err := a.upsert(ctx, l, stack, cfg)
	if err != nil {
		return Result{}, err
	}
	popts := []optpreview.Option{optpreview.ProgressStreams(a.progress()), optpreview.ErrorProgressStreams(a.progress())}
	if len(absent) > 0 {
		file, err := previewConfigFile(filepath.Join(a.StacksDir, l.Name), stack, absent)
		if err != nil {
			return Result{}, err
		}
		defer os.Remove(file) // #nosec G104 -- a temporary file of ours
		popts = append(popts, optpreview.ConfigFile(file))
	}
	evs := make(chan events.EngineEvent)
	var steps []Step
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range evs {
			if pre := ev.ResourcePreEvent; pre != nil {
				steps = append(steps, stepOf(pre.Metadata))
			}
		}
	}()
	popts = append(popts, optpreview.EventStreams(evs))
	res, err := s.Preview(ctx, popts...)
	if err != nil {
		// Not waiting for done: an early failure may never start the
		// events (the goroutine ends when the SDK closes evs, if it does).
		return Result{}, fmt.Errorf("pulumi preview: %w", short(err))
	}
	<-done // the SDK sends every event before it closes evs, right after Preview's own stream
	pending, err := stackPendingCreates(ctx, s)
	if err != nil {
		return Result{}, err
	}
	out := Result{Layer: l.Name, Duration: time.Since(start), Changes: map[string]int{}, Steps: steps, Interrupted: pending}
	for op, n := range res.ChangeSummary {
		out.Changes[string(op)] = n
	}
	return out, nil
}

// stackFile is the path of the stack's config file in its work directory.
func stackFile(dir, env string) string {
	return filepath.Join(dir, "Pulumi."+env[strings.LastIndex(env, "/")+1:]+".yaml")
}

// previewConfigFile writes a temporary copy of the stack's config file with
// the absent (plain) seeds added, and returns its path.
func previewConfigFile(dir, env string, absent auto.ConfigMap) (string, error) {
	doc := map[string]any{}
	b, err := os.ReadFile(stackFile(dir, env)) // #nosec G304 -- the stack's own file
	switch {
	case err == nil:
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return "", fmt.Errorf("reading %s: %w", stackFile(dir, env), err)
		}
		if doc == nil {
			doc = map[string]any{}
		}
	case !errors.Is(err, os.ErrNotExist):
		return "", err
	}
	values, _ := doc["config"].(map[string]any)
	if values == nil {
		values = map[string]any{}
	}
	for k, v := range absent {
		if v.Secret {
			return "", fmt.Errorf("preview cannot seed the secret %s: set it in the stack first", k)
		}
		values[k] = v.Value
	}
	doc["config"] = values
	out, err := yaml.Marshal(doc)
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp("", "dbvault-preview-*.yaml")
	if err != nil {
		return "", err
	}
	if _, err := f.Write(out); err != nil {
		_ = f.Close()
		return "", err
	}
	return f.Name(), f.Close()
}

// Destroy deletes the layer's resources. The stack itself and its config
// stay (as with `pulumi destroy`), so its history remains readable.
func (a *Auto) Destroy(ctx context.Context, l kit.Layer, stack string) (Result, error) {
	start := time.Now()
	s, err := a.selected(ctx, l, stack)
	if err != nil {
		return Result{}, err
	}
	// A destroy that meets a protected resource does not stop there: the
	// engine reports the protect error and goes on deleting everything no
	// protected resource depends on (and the Automation API destroys with
	// --skip-preview), so a refused destroy of a production environment
	// would still take most of a layer with it. A preview meets the same
	// protect check and fails before anything is deleted: run it first.
	if _, err := s.PreviewDestroy(ctx, optdestroy.ProgressStreams(a.progress()), optdestroy.ErrorProgressStreams(a.progress())); err != nil {
		return Result{}, fmt.Errorf("pulumi destroy (its preview failed; nothing was deleted): %w", short(err))
	}
	pending, err := stackPendingCreates(ctx, s)
	if err != nil {
		return Result{}, err
	}
	res, err := s.Destroy(ctx, optdestroy.ProgressStreams(a.progress()), optdestroy.ErrorProgressStreams(a.progress()))
	if err != nil {
		return Result{}, fmt.Errorf("pulumi destroy: %w", short(err))
	}
	out := Result{Layer: l.Name, Duration: time.Since(start), Interrupted: pending}
	if res.Summary.ResourceChanges != nil {
		out.Changes = maps.Clone(*res.Summary.ResourceChanges)
	}
	return out, nil
}

var _ TypeDestroyer = (*Auto)(nil)

// DestroyType deletes the stack's resources of Pulumi type typ, and those
// that depend on them, after a preview of the whole destroy (as Destroy
// does, so that a protected resource stops it first). The resources are
// found in the stack's state (pulumi stack export) and named to the engine
// with --target and --target-dependents.
func (a *Auto) DestroyType(ctx context.Context, l kit.Layer, stack, typ string) (int, error) {
	s, err := a.selected(ctx, l, stack)
	if err != nil {
		return 0, err
	}
	if _, err := s.PreviewDestroy(ctx, optdestroy.ProgressStreams(a.progress()), optdestroy.ErrorProgressStreams(a.progress())); err != nil {
		return 0, fmt.Errorf("pulumi destroy (its preview failed; nothing was deleted): %w", short(err))
	}
	d, err := StackState(ctx, s)
	if err != nil {
		return 0, fmt.Errorf("stack %s: %w", stack, err)
	}
	var urns []string
	for _, r := range d.Resources {
		if string(r.Type) == typ && !r.Delete {
			urns = append(urns, string(r.URN))
		}
	}
	if len(urns) == 0 {
		return 0, nil
	}
	res, err := s.Destroy(ctx, optdestroy.Target(urns), optdestroy.TargetDependents(),
		optdestroy.ProgressStreams(a.progress()), optdestroy.ErrorProgressStreams(a.progress()))
	if err != nil {
		return 0, fmt.Errorf("pulumi destroy --target: %w", short(err))
	}
	if res.Summary.ResourceChanges == nil {
		return 0, nil
	}
	return (*res.Summary.ResourceChanges)["delete"], nil
}

// StackState is a stack's state, read back through the CLI as an operator
// would read it: `pulumi stack export` without --show-secrets, so secret
// values stay encrypted. The Automation API's Export always adds
// --show-secrets (pulumi/pulumi sdk/go/auto/local_workspace.go,
// ExportStack), which would decrypt every secret of the state into this
// process, and on Pulumi Cloud log a decryption of them all, for a read of
// resource types and pending operations.
func StackState(ctx context.Context, s auto.Stack) (apitype.DeploymentV3, error) {
	w := s.Workspace()
	var env []string
	if h := w.PulumiHome(); h != "" {
		env = append(env, "PULUMI_HOME="+h)
	}
	for k, v := range w.GetEnvVars() {
		env = append(env, k+"="+v)
	}
	stdout, stderr, _, err := w.PulumiCommand().Run(ctx, w.WorkDir(), nil, nil, nil, env, "stack", "export", "--stack", s.Name())
	if err != nil {
		return apitype.DeploymentV3{}, fmt.Errorf("pulumi stack export: %w: %s", err, strings.Join(lastLines(stderr, 4), "; "))
	}
	var u apitype.UntypedDeployment
	if err := json.Unmarshal([]byte(stdout), &u); err != nil {
		return apitype.DeploymentV3{}, fmt.Errorf("reading the exported state: %w", err)
	}
	return deploymentOf(u)
}

// DecryptedStackState is a stack's state with its secrets in clear
// (pulumi stack export --show-secrets), for the rehearsal's checks of what
// the state holds.
func DecryptedStackState(ctx context.Context, s auto.Stack) (apitype.DeploymentV3, error) {
	u, err := s.Export(ctx)
	if err != nil {
		return apitype.DeploymentV3{}, fmt.Errorf("pulumi stack export: %w", short(err))
	}
	return deploymentOf(u)
}

func deploymentOf(u apitype.UntypedDeployment) (apitype.DeploymentV3, error) {
	var d apitype.DeploymentV3
	if len(u.Deployment) == 0 || string(u.Deployment) == "null" {
		return d, nil // a stack never deployed
	}
	if err := json.Unmarshal(u.Deployment, &d); err != nil {
		return apitype.DeploymentV3{}, fmt.Errorf("reading the exported state: %w", err)
	}
	return d, nil
}

// lastLines are the last n non-empty lines of s, trimmed.
func lastLines(s string, n int) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines[max(0, len(lines)-n):]
}

// Outputs returns the stack's outputs.
func (a *Auto) Outputs(ctx context.Context, l kit.Layer, stack string) (Outputs, error) {
	s, err := a.selected(ctx, l, stack)
	if err != nil {
		return nil, err
	}
	m, err := s.Outputs(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading outputs: %w", short(err))
	}
	return outputs(m), nil
}

// selected is the layer's stack, which must exist.
func (a *Auto) selected(ctx context.Context, l kit.Layer, stack string) (auto.Stack, error) {
	s, ok, err := a.stack(ctx, l, stack, false)
	if err == nil && !ok {
		err = fmt.Errorf("selecting stack %s: no stack named %s in %s", stack, stack, RedactedURL(a.BackendURL))
	}
	return s, err
}

func outputs(m auto.OutputMap) Outputs {
	out := Outputs{}
	for k, v := range m {
		out[k] = Output{Value: v.Value, Secret: v.Secret}
	}
	return out
}

// short cuts an Automation API error to its first line plus the last lines
// of the CLI's stderr: the full stdout was already streamed as progress.
func short(err error) error {
	msg := err.Error()
	head, rest, found := strings.Cut(msg, "\ncode: ")
	if !found {
		return err
	}
	var tail []string
	if _, stderr, ok := strings.Cut(rest, "\nstderr: "); ok {
		tail = lastLines(stderr, 8)
	}
	if len(tail) == 0 {
		return errors.New(head)
	}
	return fmt.Errorf("%s\n  %s", head, strings.Join(tail, "\n  "))
}

// RedactedURL is a backend URL fit to print: a password in it (a
// postgres:// backend's, say), in its user part or its query, is replaced
// by xxxxx (net/url, URL.Redacted); a URL that does not parse is shown by
// its scheme alone.
func RedactedURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		scheme, _, _ := strings.Cut(s, "://")
		return scheme + "://…"
	}
	q := u.Query()
	for k := range q {
		if strings.Contains(strings.ToLower(k), "pass") || strings.Contains(strings.ToLower(k), "secret") || strings.Contains(strings.ToLower(k), "token") {
			q.Set(k, "xxxxx")
			u.RawQuery = q.Encode()
		}
	}
	return u.Redacted()
}
