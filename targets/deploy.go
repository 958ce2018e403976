// Deploy targets: thin wrappers over the command ./ops/cmd/vault (ops/deploy,
// ops/status). Each first runs the cheap checks below with the standard
// library only, so a missing Pulumi CLI, passphrase or AWS credentials
// fails within seconds, before the Pulumi SDK is compiled; the command
// repeats them in full (pulumi version, credentials actually resolved).
// (Not a package comment: the package's is in workspace.go.)

package targets

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/magefile/mage/mg"
)

const vaultCmd = "./ops/cmd/vault"

// DeployAll builds the rotator, then deploys network, kms, database and secrets of ENV in order (FROM=<layer> resumes).
func DeployAll() error {
	if err := deployPreflight(true, "FROM"); err != nil {
		return err
	}
	mg.Deps(Dev.Build)
	return goRun(vaultCmd, "deploy-all")
}

// DestroyAll destroys secrets, database, kms and network of ENV (asks first; CI=true or CONFIRM=yes skip the question).
func DestroyAll() error {
	if err := deployPreflight(true); err != nil {
		return err
	}
	return goRun(vaultCmd, "destroy-all")
}

// PreviewAll previews every layer of ENV in deploy order.
func PreviewAll() error {
	if err := deployPreflight(true); err != nil {
		return err
	}
	mg.Deps(Dev.Rotator)
	return goRun(vaultCmd, "preview-all")
}

// Status shows the rotation state of ENV's secret (APP_USER picks an application user's, SECRET_ID any; honours SECRETS_MANAGER_ENDPOINT).
func Status() error {
	if err := rotationPreflight(); err != nil {
		return err
	}
	return goRun(vaultCmd, "status")
}

// Rotate rotates ENV's secret now and follows the rotation to its end (APP_USER, SECRET_ID, SECRETS_MANAGER_ENDPOINT, ROTATE_TIMEOUT).
func Rotate() error {
	if err := rotationPreflight("ROTATE_TIMEOUT"); err != nil {
		return err
	}
	args := []string{"rotate"}
	if t := os.Getenv("ROTATE_TIMEOUT"); t != "" {
		args = append(args, "-timeout", t)
	}
	return goRun(vaultCmd, args...)
}

// Verify checks ENV's deployed environment read-only, one PASS/FAIL line per check (VERIFY_OUTPUTS=<file> reads the outputs from a file; honours SECRETS_MANAGER_ENDPOINT).
func Verify() error {
	if err := verifyPreflight(); err != nil {
		return err
	}
	return goRun(vaultCmd, "verify")
}

// Up deploys one layer of ENV (for the team that owns it).
type Up mg.Namespace

// Network deploys the network layer of ENV.
func (Up) Network() error { return layerOp("up", "network") }

// Kms deploys the kms layer of ENV.
func (Up) Kms() error { return layerOp("up", "kms") }

// Database deploys the database layer of ENV.
func (Up) Database() error { return layerOp("up", "database") }

// Secrets builds the rotator and deploys the secrets layer of ENV.
func (Up) Secrets() error { return layerOp("up", "secrets") }

// Preview previews one layer of ENV.
type Preview mg.Namespace

// Network previews the network layer of ENV.
func (Preview) Network() error { return layerOp("preview", "network") }

// Kms previews the kms layer of ENV.
func (Preview) Kms() error { return layerOp("preview", "kms") }

// Database previews the database layer of ENV.
func (Preview) Database() error { return layerOp("preview", "database") }

// Secrets builds the rotator and previews the secrets layer of ENV.
func (Preview) Secrets() error { return layerOp("preview", "secrets") }

// Destroy destroys one layer of ENV (refused while a later layer exists; asks first).
type Destroy mg.Namespace

// Network destroys the network layer of ENV.
func (Destroy) Network() error { return layerOp("destroy", "network") }

// Kms destroys the kms layer of ENV.
func (Destroy) Kms() error { return layerOp("destroy", "kms") }

// Database destroys the database layer of ENV.
func (Destroy) Database() error { return layerOp("destroy", "database") }

// Secrets destroys the secrets layer of ENV.
func (Destroy) Secrets() error { return layerOp("destroy", "secrets") }

// Outputs prints one layer's stack outputs for ENV.
type Outputs mg.Namespace

// Network prints the network layer's outputs.
func (Outputs) Network() error { return layerOp("outputs", "network") }

// Kms prints the kms layer's outputs.
func (Outputs) Kms() error { return layerOp("outputs", "kms") }

// Database prints the database layer's outputs.
func (Outputs) Database() error { return layerOp("outputs", "database") }

// Secrets prints the secrets layer's outputs (secretArn among them).
func (Outputs) Secrets() error { return layerOp("outputs", "secrets") }

// layerOp runs one operation on one layer.
func layerOp(op, layer string) error {
	if err := deployPreflight(op != "outputs"); err != nil {
		return err
	}
	if layer == "secrets" && (op == "up" || op == "preview") {
		mg.Deps(Dev.Rotator) // the secrets layer deploys functions/rotator/dist/rotator.zip
	}
	return goRun(vaultCmd, op, layer)
}

// missingPulumi matches ops/deploy.MissingPulumi (a test checks the output).
const missingPulumi = "pulumi CLI not found on PATH: install the Pulumi CLI (curl -fsSL https://get.pulumi.com | sh, or brew install pulumi) and open a new shell"

var envPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// layerNames are the layers in deploy order (ops/layers.All).
var layerNames = []string{"network", "kms", "database", "secrets"}

// inputProblems validates the inputs every deploy target reads (CI,
// CONFIRM, TAG_*, ALLOW_REPLACE) and the named extra ones (FROM,
// ROTATE_TIMEOUT), so a typo is refused before anything is built.
func inputProblems(extra ...string) []string {
	var problems []string
	if v := os.Getenv("CI"); v != "" && v != "true" && v != "false" && v != "1" && v != "0" {
		problems = append(problems, "CI="+v+" is neither true nor false")
	}
	if v := os.Getenv("CONFIRM"); v != "" && v != "yes" && v != "no" {
		problems = append(problems, "CONFIRM="+v+": set CONFIRM=yes to proceed without asking, or leave it unset to be asked")
	}
	for _, k := range []string{"TAG_ENVIRONMENT", "TAG_COST_CENTER", "TAG_COMPLIANCE"} {
		if v, ok := os.LookupEnv(k); ok && strings.TrimSpace(v) != v {
			problems = append(problems, k+" has leading or trailing spaces: "+strconv.Quote(v))
		}
	}
	if v := os.Getenv("ALLOW_REPLACE"); v != "" {
		for _, name := range strings.Split(v, ",") {
			if strings.TrimSpace(name) == "" || strings.ContainsAny(strings.TrimSpace(name), " \t") {
				problems = append(problems, "ALLOW_REPLACE="+strconv.Quote(v)+": name resources by URN or logical name, separated by commas, no blanks")
				break
			}
		}
	}
	for _, k := range extra {
		v := os.Getenv(k)
		switch {
		case v == "":
		case k == "FROM" && !slices.Contains(layerNames, v):
			problems = append(problems, "FROM="+v+" is not a layer: use one of "+strings.Join(layerNames, ", ")+" (deployAll resumes from it)")
		case k == "ROTATE_TIMEOUT":
			if d, err := time.ParseDuration(v); err != nil || d <= 0 {
				problems = append(problems, "ROTATE_TIMEOUT="+v+" is not a positive duration (e.g. 15m)")
			}
		}
	}
	return problems
}

// deployPreflight is the cheap part of the command's preflight: the
// inputs (extra: FROM, ...), ENV, region, Pulumi CLI, passphrase and
// (needAWS) a source of AWS credentials.
func deployPreflight(needAWS bool, extra ...string) error {
	problems := inputProblems(extra...)
	if p := envProblem(); p != "" {
		problems = append(problems, p)
	}
	if _, err := exec.LookPath("pulumi"); err != nil {
		problems = append(problems, missingPulumi)
	}
	if p := passphraseProblem(); p != "" {
		problems = append(problems, p)
	}
	if needAWS {
		problems = append(problems, awsProblems()...)
	}
	return preflightError(problems)
}

// rotationPreflight: status and rotate need AWS credentials unless they
// talk to a local emulator, and the stack (Pulumi, passphrase, ENV) unless
// SECRET_ID names the secret.
func rotationPreflight(extra ...string) error {
	problems := inputProblems(extra...)
	if os.Getenv("SECRET_ID") == "" {
		if p := envProblem(); p != "" {
			problems = append(problems, p+" (or set SECRET_ID to the secret's ARN)")
		}
		if _, err := exec.LookPath("pulumi"); err != nil {
			problems = append(problems, missingPulumi+" (or set SECRET_ID to the secret's ARN)")
		}
		if p := passphraseProblem(); p != "" {
			problems = append(problems, p)
		}
	}
	if os.Getenv("SECRETS_MANAGER_ENDPOINT") == "" {
		problems = append(problems, awsProblems()...)
	}
	return preflightError(problems)
}

// verifyPreflight: verify always needs AWS credentials (only the command's
// tests have fakes for the services besides Secrets Manager), and the stack
// (Pulumi, passphrase, ENV) unless VERIFY_OUTPUTS names a file of outputs.
func verifyPreflight() error {
	problems := inputProblems()
	if os.Getenv("VERIFY_OUTPUTS") == "" {
		if p := envProblem(); p != "" {
			problems = append(problems, p+" (or set VERIFY_OUTPUTS to a JSON file of the outputs)")
		}
		if _, err := exec.LookPath("pulumi"); err != nil {
			problems = append(problems, missingPulumi+" (or set VERIFY_OUTPUTS to a JSON file of the outputs)")
		}
		if p := passphraseProblem(); p != "" {
			problems = append(problems, p)
		}
	}
	problems = append(problems, awsProblems()...)
	return preflightError(problems)
}

func preflightError(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return mg.Fatal(1, "preflight failed:\n  - "+strings.Join(problems, "\n  - "))
}

func envProblem() string {
	env := os.Getenv("ENV")
	switch {
	case env == "":
		return "ENV is not set: name the environment, e.g. ENV=dev go run mage.go deployAll (lower-case letters, digits, hyphens)"
	case len(env) > 20 || !envPattern.MatchString(env):
		return "ENV " + env + " is not a valid environmentSuffix: at most 20 lower-case letters, digits and single hyphens"
	}
	return ""
}

func passphraseProblem() string {
	if os.Getenv("PULUMI_CONFIG_PASSPHRASE") != "" || os.Getenv("PULUMI_SECRETS_PROVIDER") != "" ||
		strings.HasPrefix(os.Getenv("PULUMI_BACKEND_URL"), "https://") {
		return ""
	}
	if f := os.Getenv("PULUMI_CONFIG_PASSPHRASE_FILE"); f != "" {
		if _, err := os.Stat(f); err != nil { // #nosec G703 -- the operator's own file, only checked to exist
			return "PULUMI_CONFIG_PASSPHRASE_FILE cannot be read: " + err.Error()
		}
		return ""
	}
	return "no stack passphrase: export PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE=<file>), or PULUMI_SECRETS_PROVIDER=awskms://alias/<key> for a KMS secrets provider"
}

// awsProblems looks for a source of AWS credentials without the SDK: the
// variables and files the SDK reads. On an EC2 instance role, set
// AWS_EC2_METADATA_DISABLED=false to say so (the command then checks it).
func awsProblems() []string {
	var problems []string
	if r := os.Getenv("AWS_REGION"); r != "" && !regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`).MatchString(r) {
		problems = append(problems, "AWS_REGION "+r+" is not a region name: set AWS_REGION=us-east-1 (or your region)")
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		if os.Getenv(k) != "" {
			return problems
		}
	}
	if os.Getenv("AWS_EC2_METADATA_DISABLED") == "false" {
		return problems
	}
	home, _ := os.UserHomeDir()
	for _, f := range []string{os.Getenv("AWS_SHARED_CREDENTIALS_FILE"), os.Getenv("AWS_CONFIG_FILE"),
		filepath.Join(home, ".aws", "credentials"), filepath.Join(home, ".aws", "config")} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err == nil { // #nosec G703 -- a file the AWS SDK reads, only checked to exist
			return problems
		}
	}
	return append(problems, "no AWS credentials: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE=<profile> (run `aws sso login` first for SSO), or use an instance or OIDC role")
}
