// Command vault is the operator's command behind the deploy targets of
// targets/deploy.go: it deploys, previews, destroys and reads the layers of an
// environment with the Pulumi Automation API (ops/deploy), and shows or
// drives the secret's rotation (ops/status).
//
//	vault deploy-all            network, kms, database, secrets (FROM=<layer> resumes)
//	vault destroy-all           the reverse, after confirmation
//	vault up|preview|destroy|outputs <layer>
//	vault preview-all
//	vault status [-secret-id ID | -user NAME]
//	vault rotate [-secret-id ID | -user NAME] [-timeout 15m] [-interval 2s]
//	vault verify [-outputs FILE] read-only checks of the deployed environment (ops/verify)
//
// Environment: ENV (required), AWS_REGION (a new environment's region,
// us-east-1 by default; status, rotate and verify read the region from
// the ARNs they are given and refuse another AWS_REGION), TAG_ENVIRONMENT,
// TAG_COST_CENTER, TAG_COMPLIANCE, PULUMI_BACKEND_URL (default
// file://<repo>/.pulumi-state), PULUMI_ORG (default: the backend's), PULUMI_CONFIG_PASSPHRASE or
// PULUMI_CONFIG_PASSPHRASE_FILE, PULUMI_SECRETS_PROVIDER, FROM, CI, CONFIRM,
// SECRET_ID, APP_USER, SECRETS_MANAGER_ENDPOINT, VERIFY_OUTPUTS.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"golang.org/x/term"

	"github.com/dbvault/dbvault/ops/deploy"
	"github.com/dbvault/dbvault/ops/layers"
	"github.com/dbvault/dbvault/ops/status"
	"github.com/dbvault/dbvault/tools/workspace"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 4)
	// SIGHUP: a closed terminal stops the deploy as a Ctrl-C does. SIGPIPE:
	// writes to a terminal that is gone fail instead of killing this
	// process, which still has the CLI to stop (os/signal, SIGPIPE).
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	go stopOnSignals(sigs, cancel, os.Stderr, deploy.RunningCLIs, os.Exit)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, lossy{os.Stdout}, os.Stderr)
	signal.Stop(sigs)
	os.Exit(code)
}

// stopOnSignals ends the command on the first interrupt, SIGTERM or
// SIGHUP. With no Pulumi CLI running it exits (130, as a shell reports an
// interrupt): nothing is in flight, and a question on the terminal would
// otherwise go on waiting. Otherwise it ends the command's context, which
// sends each running CLI one SIGTERM: it finishes the operations in flight
// and records them (the CLI runs in a process group of its own, so a
// terminal's Ctrl-C reaches it only this way). The second signal
// terminates the CLIs at once, which may leave pending creates; any later
// one kills them.
func stopOnSignals(sigs <-chan os.Signal, cancel context.CancelFunc, stderr io.Writer, running func() int, exit func(int)) {
	<-sigs
	if running() == 0 {
		fmt.Fprintln(stderr, "interrupted")
		exit(130)
		return
	}
	fmt.Fprintln(stderr, "stopping: Pulumi finishes the operations in flight and records them (this may take minutes); interrupt again to terminate them, which may leave pending creates (docs/runbooks.md, An interrupted deploy)")
	cancel()
	n := 0
	for range sigs {
		if n++; n == 1 {
			fmt.Fprintln(stderr, "terminating the Pulumi CLI; interrupt again to kill it")
			deploy.TerminateCLIs()
			continue
		}
		fmt.Fprintln(stderr, "killing the Pulumi CLI")
		deploy.KillCLIs()
	}
}

// lossy writes to w and reports success whatever happens: the Pulumi CLI's
// progress, copied to this process's stdout, must keep flowing when the
// terminal is gone, or the copy would stop and the CLI die on its next
// write, in the middle of an operation.
type lossy struct{ w io.Writer }

func (l lossy) Write(p []byte) (int, error) {
	_, _ = l.w.Write(p)
	return len(p), nil
}

const usage = `usage: vault <command> [args]
  deploy-all              bring up network, kms, database, secrets (FROM=<layer> resumes)
  destroy-all             destroy secrets, database, kms, network (asks; CI=true or CONFIRM=yes skip the question)
  up <layer>              deploy one layer
  preview <layer>         preview one layer
  preview-all             preview every layer in order
  destroy <layer>         destroy one layer (refused while a later layer is deployed)
  outputs <layer>         print a layer's outputs
  status [-secret-id ID]  the secret's rotation state
  rotate [-secret-id ID]  rotate now and follow the rotation to its end
  verify [-outputs FILE]  read-only checks of the deployed environment, one PASS/FAIL line each
layers: network, kms, database, secrets`

// run is main without the process around it, so tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	err := dispatch(ctx, args[0], args[1:], getenv, stdin, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "vault %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func dispatch(ctx context.Context, cmd string, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	switch cmd {
	case "status", "rotate":
		return rotation(ctx, cmd, args, getenv, stdout, stderr)
	case "verify":
		return verifyEnv(ctx, args, getenv, stdout, stderr)
	case "deploy-all", "destroy-all", "preview-all":
		if len(args) != 0 {
			return fmt.Errorf("takes no arguments\n%s", usage)
		}
	case "up", "preview", "destroy", "outputs":
		if len(args) != 1 {
			return fmt.Errorf("needs one layer name\n%s", usage)
		}
		if _, ok := layers.ByName(args[0]); !ok {
			return fmt.Errorf("unknown layer %q (network, kms, database, secrets)", args[0])
		}
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command\n%s", usage)
	}

	env, err := deploy.EnvironmentFromEnv(getenv)
	if err != nil {
		return err
	}
	// outputs only reads state; everything else may touch AWS.
	pf := deploy.Preflight{Getenv: getenv, Pulumi: true, Passphrase: true, AWS: cmd != "outputs", Out: stderr}
	if err := pf.Run(ctx); err != nil {
		return err
	}
	orch, err := orchestrator(ctx, env, getenv, stdin, stdout, stderr)
	if err != nil {
		return err
	}
	if err := awsLookups(ctx, orch, cmd); err != nil {
		return err
	}
	switch cmd {
	case "deploy-all":
		_, err = orch.DeployAll(ctx, getenv("FROM"))
	case "destroy-all":
		err = orch.DestroyAll(ctx)
	case "preview-all":
		_, err = orch.PreviewAll(ctx)
	case "up":
		_, err = orch.Up(ctx, args[0])
	case "preview":
		_, err = orch.Preview(ctx, args[0])
	case "destroy":
		err = orch.Destroy(ctx, args[0])
	case "outputs":
		_, err = orch.Outputs(ctx, args[0])
	}
	return err
}

// orchestrator wires the real runner: stacks/<layer> of this repository as
// work directories, the backend, the secrets provider, progress to stdout.
func orchestrator(ctx context.Context, env deploy.Environment, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) (*deploy.Orchestrator, error) {
	root, err := workspace.Root()
	if err != nil {
		return nil, err
	}
	backend := getenv("PULUMI_BACKEND_URL")
	if backend == "" {
		backend = "file://" + filepath.Join(root, ".pulumi-state")
	}
	region := env.Region + " (AWS_REGION)"
	if !env.FromEnv[deploy.VarRegion] {
		region = "the stacks' (" + env.Region + " for a new environment)"
	}
	fmt.Fprintf(stderr, "environment %s, region %s, backend %s\n", env.Name, region, deploy.RedactedURL(backend))
	runner := &deploy.Auto{
		StacksDir:       filepath.Join(root, "stacks"),
		BackendURL:      backend,
		SecretsProvider: getenv("PULUMI_SECRETS_PROVIDER"),
		Progress:        stdout,
	}
	orch := &deploy.Orchestrator{
		Env:          env,
		Layers:       layers.All,
		Runner:       runner,
		Out:          stdout,
		Confirm:      deploy.ConfirmFromEnv(getenv, env.Name, isTerminal(stdin), stdin, stderr),
		AllowReplace: deploy.ParseAllowReplace(getenv("ALLOW_REPLACE")),
	}
	// In GitHub Actions every plan also goes to the job summary.
	if path := getenv("GITHUB_STEP_SUMMARY"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600) // #nosec G304 -- the runner's summary file
		if err != nil {
			return nil, fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
		}
		orch.PlanOut = f // closed when the command exits
	}
	if getenv("PULUMI_BACKEND_URL") == "" {
		exists := func(ctx context.Context) (bool, error) {
			for _, l := range orch.Layers {
				ok, err := runner.Exists(ctx, l, orch.StackName(l))
				if ok || err != nil {
					return ok, err
				}
			}
			return false, nil
		}
		if err := loginConflict(ctx, getenv, backend, exists, stderr); err != nil {
			return nil, err
		}
	}
	return orch, nil
}

// awsLookups gives the orchestrator the AWS reads its commands make
// besides Pulumi's. Those that deploy or preview get the account's
// CloudTrail (ops/deploy trail.go): before a new secrets layer runs without
// existingTrailName or createTrail=true, the account's trail that records
// management events is used instead of a new one. Those that destroy get
// EC2 (ops/deploy eni.go): the secrets layer's destroy deletes the rotator
// first and keeps its role until Lambda has released the rotator's network
// interfaces. Those that deploy also look up the names of the EventBridge
// rules and CloudWatch alarms a plan creates (ops/deploy plan.go): AWS
// would overwrite a namesake.
func awsLookups(ctx context.Context, orch *deploy.Orchestrator, cmd string) error {
	var deploys bool
	switch cmd {
	case "deploy-all", "up", "preview", "preview-all":
		deploys = true
	case "destroy", "destroy-all":
	default:
		return nil
	}
	cfg, err := awsConfig(ctx, orch.Env.Region, false)
	if err != nil {
		return err
	}
	if deploys {
		orch.Trails = cloudtrail.NewFromConfig(cfg)
		orch.Names = &deploy.NameLookup{Rules: eventbridge.NewFromConfig(cfg), Alarms: cloudwatch.NewFromConfig(cfg)}
	} else {
		orch.ENIs = ec2.NewFromConfig(cfg)
	}
	return nil
}

// isTerminal reports whether r is an interactive terminal. /dev/null is a
// character device too, so the mode bits do not tell; the terminal ioctl
// (golang.org/x/term) does.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) // #nosec G115 -- a file descriptor fits an int
}

// rotation runs status and rotate.
func rotation(ctx context.Context, cmd string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	secretID := fs.String("secret-id", getenv("SECRET_ID"), "secret name or ARN (default: SECRET_ID, else the secret of -user from the secrets stack)")
	user := fs.String("user", getenv("APP_USER"), "application user whose secret to use (default: APP_USER, else the first declared user: the stack's secretArn)")
	timeout := fs.Duration("timeout", 15*time.Minute, "rotate: how long AWSPENDING may stay before the rotation counts as stuck")
	interval := fs.Duration("interval", 2*time.Second, "rotate: time between two DescribeSecret calls")
	if err := fs.Parse(args); err != nil {
		return err
	}
	endpoint := getenv("SECRETS_MANAGER_ENDPOINT")
	if *secretID != "" && *user != "" {
		return errors.New("name the secret once: -secret-id (SECRET_ID) or -user (APP_USER), not both")
	}
	if *secretID == "" {
		id, err := secretFromStack(ctx, getenv, *user, stderr)
		if err != nil {
			return err
		}
		*secretID = id
	}
	// A secret named by its ARN (as the stack names it) is called in its
	// own region: a client of another region answers that it does not
	// exist.
	region, err := regionOf(secretRegion(*secretID), getenv("AWS_REGION"), "secret "+*secretID+" is in")
	if err != nil {
		return err
	}
	// Against a local emulator (SECRETS_MANAGER_ENDPOINT) any credentials
	// do; against AWS they must resolve.
	if endpoint == "" {
		if err := (deploy.Preflight{Getenv: getenv, AWS: true}).Run(ctx); err != nil {
			return err
		}
	}
	client, err := secretsClient(ctx, region, endpoint, getenv("AWS_ACCESS_KEY_ID") != "")
	if err != nil {
		return err
	}
	if cmd == "status" {
		s, err := status.Describe(ctx, client, *secretID)
		if err != nil {
			return err
		}
		s.Print(stdout)
		if len(s.Problems()) > 0 {
			return errors.New("the secret needs attention (PROBLEM lines above)")
		}
		return nil
	}
	s, err := status.Rotate(ctx, client, *secretID, status.Follow{Interval: *interval, Timeout: *timeout, Out: stdout})
	if s.ARN != "" {
		s.Print(stdout)
	}
	return err
}

// secretRegion is the region in a secret's ARN; "" for a secret named
// by its name.
func secretRegion(id string) string {
	a, err := arn.Parse(id)
	if err != nil {
		return ""
	}
	return a.Region
}

// secretFromStack reads the secret of user (the first declared one when
// empty) from the environment's secrets stack.
func secretFromStack(ctx context.Context, getenv func(string) string, user string, stderr io.Writer) (string, error) {
	env, err := deploy.EnvironmentFromEnv(getenv)
	if err != nil {
		return "", fmt.Errorf("no secret named: set SECRET_ID (or -secret-id), or ENV to read it from the secrets stack: %w", err)
	}
	if err := (deploy.Preflight{Getenv: getenv, Pulumi: true, Passphrase: true}).Run(ctx); err != nil {
		return "", err
	}
	orch, err := orchestrator(ctx, env, getenv, nil, io.Discard, stderr)
	if err != nil {
		return "", err
	}
	outs, err := orch.Outputs(ctx, "secrets")
	if err != nil {
		return "", err
	}
	return pickSecret(env.Name, outs, user)
}

// pickSecret is the ARN of user's secret among a secrets stack's outputs
// (appSecretArns), or the stack's secretArn when user is empty.
func pickSecret(env string, outs deploy.Outputs, user string) (string, error) {
	if user == "" {
		v, ok := outs[deploy.SecretArnOutput]
		if !ok {
			return "", fmt.Errorf("the secrets stack of %s has no %s output", env, deploy.SecretArnOutput)
		}
		return fmt.Sprint(v.Value), nil
	}
	arns, _ := outs["appSecretArns"].Value.(map[string]any)
	if arn, ok := arns[user].(string); ok && arn != "" {
		return arn, nil
	}
	names := make([]string, 0, len(arns))
	for n := range arns {
		names = append(names, n)
	}
	slices.Sort(names)
	return "", fmt.Errorf("the secrets stack of %s declares no application user %q (appSecretArns has %v)", env, user, names)
}

// secretsClient is a Secrets Manager client for region, at endpoint when
// set (with stand-in credentials unless the environment has keys).
func secretsClient(ctx context.Context, region, endpoint string, haveKeys bool) (*secretsmanager.Client, error) {
	cfg, err := awsConfig(ctx, region, endpoint != "" && !haveKeys)
	if err != nil {
		return nil, err
	}
	return secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// awsConfig is the SDK configuration for region; standIn uses stand-in
// credentials (a local emulator accepts any).
func awsConfig(ctx context.Context, region string, standIn bool) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if standIn {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	return cfg, nil
}
