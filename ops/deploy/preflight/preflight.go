// Package preflight is the one set of checks that stand before every deploy
// and rotation target: the inputs, ENV, the pinned Pulumi CLI, the stack
// passphrase, and a source of AWS credentials. It depends on the standard
// library only (and ops/rehearse/tools for the pin), so the targets run it
// through the small command ops/cmd/preflight and a missing piece fails
// within seconds, before the Pulumi and AWS SDKs are compiled. The vault
// command (ops/deploy.Preflight) runs the same checks and resolves the AWS
// credentials with the SDK on top.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dbvault/dbvault/ops/rehearse/tools"
)

// PinnedPulumi is the only Pulumi CLI version the deploy targets accept:
// the version of the Pulumi Go SDK the stacks are built with
// (tools.PulumiVersion, pinned in tools/pulumicli/go.mod). A CLI of
// another version runs the same programs through another engine, with its
// own state format changes and bugs, and is refused.
var PinnedPulumi = strings.TrimPrefix(tools.PulumiVersion, "v")

// InstallPulumi says how to install the pinned CLI.
var InstallPulumi = "install the Pulumi CLI " + PinnedPulumi + ": curl -fsSL https://get.pulumi.com | sh -s -- --version " + PinnedPulumi +
	" (then open a new shell), or build it with `go run mage.go pulumiCLI` and put the bin folder of the directory it prints first on PATH"

// MissingPulumi is the line for a missing Pulumi CLI.
var MissingPulumi = "pulumi CLI not found on PATH: " + InstallPulumi

// Error lists every missing piece, one line each.
type Error struct {
	// Problems are the lines, each saying what is missing and what to do.
	Problems []string
}

func (e *Error) Error() string {
	return "preflight failed:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// Pulumi finds the pulumi on PATH, asks its version and refuses any but
// PinnedPulumi. It returns "v<version> (<path>)".
func Pulumi(ctx context.Context, timeout time.Duration) (string, error) {
	path, err := exec.LookPath("pulumi")
	if err != nil {
		return "", errors.New(MissingPulumi)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// #nosec G204 -- path is the pulumi that exec.LookPath found; the argument is fixed.
	cmd := exec.CommandContext(ctx, path, "version")
	cmd.Env = append(os.Environ(), "PULUMI_SKIP_UPDATE_CHECK=true")
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s does not run (`pulumi version`: %v): %s", path, err, InstallPulumi)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s reports no version: %s", path, InstallPulumi)
	}
	if strings.TrimPrefix(v, "v") != PinnedPulumi {
		return "", fmt.Errorf("%s is Pulumi %s, not the pinned %s: %s", path, v, PinnedPulumi, InstallPulumi)
	}
	return v + " (" + path + ")", nil
}

// Passphrase checks that the stack secrets can be decrypted: a passphrase,
// a readable non-empty passphrase file, a secrets provider, or a Pulumi
// Cloud backend (which brings its own).
//
// Where the passphrase provider is in use, a PULUMI_CONFIG_PASSPHRASE that
// is set but empty (a workflow's unset secret) is refused, whatever else is
// set: the CLI takes the variable
// whenever it is present, empty or not, before the file
// (pkg/secrets/passphrase/manager.go, readPassphrase), and a new stack
// then encrypts its secrets with the empty passphrase. Only the process
// environment, which the CLI inherits, can hold such a variable, so it is
// read there (os.LookupEnv), not through getenv.
func Passphrase(getenv func(string) string) error {
	provider := getenv("PULUMI_SECRETS_PROVIDER")
	if provider != "" && provider != "passphrase" {
		return nil
	}
	if provider == "" && strings.HasPrefix(getenv("PULUMI_BACKEND_URL"), "https://") {
		return nil
	}
	if v, set := os.LookupEnv("PULUMI_CONFIG_PASSPHRASE"); set && getenv("PULUMI_CONFIG_PASSPHRASE") == "" && strings.TrimSpace(v) == "" {
		return errors.New("PULUMI_CONFIG_PASSPHRASE is set but empty: Pulumi would use the empty passphrase and ignore PULUMI_CONFIG_PASSPHRASE_FILE; unset it (unset PULUMI_CONFIG_PASSPHRASE) or give it the stack passphrase")
	}
	if getenv("PULUMI_CONFIG_PASSPHRASE") != "" {
		return nil
	}
	if f := getenv("PULUMI_CONFIG_PASSPHRASE_FILE"); f != "" {
		// The CLI reads the file from its own working directory, the
		// layer's folder (the Automation API's WorkDir), not from here.
		if !filepath.IsAbs(f) {
			return fmt.Errorf("PULUMI_CONFIG_PASSPHRASE_FILE %s is a relative path, which Pulumi reads from each layer's folder: give an absolute path, e.g. PULUMI_CONFIG_PASSPHRASE_FILE=$PWD/%s", f, f)
		}
		b, err := os.ReadFile(f) // #nosec G304 -- the operator names this file on purpose.
		if err != nil {
			return fmt.Errorf("PULUMI_CONFIG_PASSPHRASE_FILE %s cannot be read: %v", f, errors.Unwrap(err))
		}
		if strings.TrimSpace(string(b)) == "" {
			return fmt.Errorf("PULUMI_CONFIG_PASSPHRASE_FILE %s is empty: write the stack passphrase into it", f)
		}
		return nil
	}
	return errors.New("no stack passphrase: export PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE=<file>), or PULUMI_SECRETS_PROVIDER=awskms://alias/<key> for a KMS secrets provider")
}

var envPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Env checks ENV, the environment's name.
func Env(getenv func(string) string) error {
	env := getenv("ENV")
	switch {
	case env == "":
		return errors.New("ENV is not set: name the environment, e.g. ENV=dev go run mage.go deployAll (lower-case letters, digits, hyphens)")
	case len(env) > 20 || !envPattern.MatchString(env):
		return errors.New("ENV " + env + " is not a valid environmentSuffix: at most 20 lower-case letters, digits and single hyphens")
	}
	return nil
}

// RegionPattern matches an AWS region's name.
var RegionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// Layers are the layers in deploy order (ops/layers.All).
var Layers = []string{"network", "kms", "database", "secrets"}

// Inputs validates the inputs every deploy target reads (CI, CONFIRM,
// TAG_*, ALLOW_REPLACE) and the named extra ones (FROM, ROTATE_TIMEOUT),
// so that a typo is refused before anything is built.
func Inputs(getenv func(string) string, extra ...string) []string {
	var problems []string
	if v := getenv("CI"); v != "" && v != "true" && v != "false" && v != "1" && v != "0" {
		problems = append(problems, "CI="+v+" is neither true nor false")
	}
	if v := getenv("CONFIRM"); v != "" && v != "yes" && v != "no" {
		problems = append(problems, "CONFIRM="+v+": set CONFIRM=yes to proceed without asking, or leave it unset to be asked")
	}
	for _, k := range []string{"TAG_ENVIRONMENT", "TAG_COST_CENTER", "TAG_COMPLIANCE"} {
		if v := getenv(k); strings.TrimSpace(v) != v {
			problems = append(problems, k+" has leading or trailing spaces: "+strconv.Quote(v))
		}
	}
	if v := getenv("ALLOW_REPLACE"); v != "" {
		for _, name := range strings.Split(v, ",") {
			if strings.TrimSpace(name) == "" || strings.ContainsAny(strings.TrimSpace(name), " \t") {
				problems = append(problems, "ALLOW_REPLACE="+strconv.Quote(v)+": name resources by URN or logical name, separated by commas, no blanks")
				break
			}
		}
	}
	for _, k := range extra {
		v := getenv(k)
		switch {
		case v == "":
		case k == "FROM" && !slices.Contains(Layers, v):
			problems = append(problems, "FROM="+v+" is not a layer: use one of "+strings.Join(Layers, ", ")+" (deployAll resumes from it)")
		case k == "ROTATE_TIMEOUT":
			if d, err := time.ParseDuration(v); err != nil || d <= 0 {
				problems = append(problems, "ROTATE_TIMEOUT="+v+" is not a positive duration (e.g. 15m)")
			}
		}
	}
	return problems
}

// NoCredentials is the line for AWS credentials that are missing.
// #nosec G101 -- a message naming the variables, no credential in it
const NoCredentials = "no AWS credentials: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE=<profile> (run `aws sso login` first for SSO), or use an instance or OIDC role"

// AWSSource looks for a source of AWS credentials without the SDK: the
// variables and files the SDK's default chain reads
// (https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html).
// On an EC2 instance role, AWS_EC2_METADATA_DISABLED=false says so (the
// vault command then resolves it).
func AWSSource(getenv func(string) string) []string {
	var problems []string
	if r := getenv("AWS_REGION"); r != "" && !RegionPattern.MatchString(r) {
		problems = append(problems, "AWS_REGION "+r+" is not a region name: set AWS_REGION=us-east-1 (or your region)")
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		if getenv(k) != "" {
			return problems
		}
	}
	if getenv("AWS_EC2_METADATA_DISABLED") == "false" {
		return problems
	}
	home, _ := os.UserHomeDir()
	for _, f := range []string{getenv("AWS_SHARED_CREDENTIALS_FILE"), getenv("AWS_CONFIG_FILE"),
		filepath.Join(home, ".aws", "credentials"), filepath.Join(home, ".aws", "config")} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err == nil { // #nosec G703 -- a file the AWS SDK reads, only checked to exist
			return problems
		}
	}
	return append(problems, NoCredentials)
}

// Need is what one target needs before it starts.
type Need struct {
	// Inputs are the extra inputs it reads (FROM, ROTATE_TIMEOUT).
	Inputs []string
	// Stack: ENV, the pinned Pulumi CLI and the passphrase, unless the
	// variable StackUnless is set (SECRET_ID names the secret itself,
	// VERIFY_OUTPUTS a file of outputs).
	Stack       bool
	StackUnless string
	// AWS: a source of AWS credentials, unless the variable AWSUnless is
	// set (SECRETS_MANAGER_ENDPOINT: a local emulator).
	AWS       bool
	AWSUnless string
}

// Needs are the targets' needs, by the name the targets pass to
// ops/cmd/preflight.
var Needs = map[string]Need{
	"deployAll":  {Inputs: []string{"FROM"}, Stack: true, AWS: true},
	"destroyAll": {Stack: true, AWS: true},
	"previewAll": {Stack: true, AWS: true},
	"layer":      {Stack: true, AWS: true}, // up:*, preview:*, destroy:*
	"outputs":    {Stack: true},
	"status":     {Stack: true, StackUnless: "SECRET_ID", AWS: true, AWSUnless: "SECRETS_MANAGER_ENDPOINT"},
	"rotate":     {Inputs: []string{"ROTATE_TIMEOUT"}, Stack: true, StackUnless: "SECRET_ID", AWS: true, AWSUnless: "SECRETS_MANAGER_ENDPOINT"},
	"verify":     {Stack: true, StackUnless: "VERIFY_OUTPUTS", AWS: true},
}

// Check runs the checks a target needs and returns an *Error naming every
// missing piece, or nil.
func Check(ctx context.Context, getenv func(string) string, n Need) error {
	problems := Inputs(getenv, n.Inputs...)
	if n.Stack && (n.StackUnless == "" || getenv(n.StackUnless) == "") {
		or := ""
		switch n.StackUnless {
		case "SECRET_ID":
			or = " (or set SECRET_ID to the secret's ARN)"
		case "VERIFY_OUTPUTS":
			or = " (or set VERIFY_OUTPUTS to a JSON file of the outputs)"
		}
		if err := Env(getenv); err != nil {
			problems = append(problems, err.Error()+or)
		}
		if _, err := Pulumi(ctx, 5*time.Second); err != nil {
			problems = append(problems, err.Error()+or)
		}
		if err := Passphrase(getenv); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if n.AWS && (n.AWSUnless == "" || getenv(n.AWSUnless) == "") {
		problems = append(problems, AWSSource(getenv)...)
	}
	if len(problems) > 0 {
		return &Error{Problems: problems}
	}
	return nil
}
