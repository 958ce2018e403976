package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
)

// MissingPulumi is the preflight line for a missing Pulumi CLI.
const MissingPulumi = "pulumi CLI not found on PATH: install the Pulumi CLI (curl -fsSL https://get.pulumi.com | sh, or brew install pulumi) and open a new shell"

// Preflight checks what the deploy targets need before any Pulumi work
// starts, so a missing piece costs seconds, not a half-built environment.
type Preflight struct {
	// Getenv reads the environment (os.Getenv in production).
	Getenv func(string) string
	// Pulumi checks that the Pulumi CLI is on PATH and answers `pulumi version`.
	Pulumi bool
	// Passphrase checks that the stack secrets can be decrypted: a
	// passphrase, a passphrase file, a secrets provider or a Pulumi Cloud
	// backend (which brings its own).
	Passphrase bool
	// AWS checks that AWS credentials resolve and a region is set.
	AWS bool
	// Timeout bounds each check that may block (default 5 s).
	Timeout time.Duration
	// Out receives one line per check that passed (nil: discarded).
	Out io.Writer
}

// PreflightError lists every missing piece, one line each.
type PreflightError struct {
	// Problems are the lines, each saying what is missing and what to do.
	Problems []string
}

func (e *PreflightError) Error() string {
	return "preflight failed:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// Run performs the checks and returns a *PreflightError naming every
// missing piece, or nil.
func (p Preflight) Run(ctx context.Context) error {
	getenv := p.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	out := p.Out
	if out == nil {
		out = io.Discard
	}
	var problems []string
	if p.Pulumi {
		v, err := PulumiVersion(ctx, timeout)
		if err != nil {
			problems = append(problems, err.Error())
		} else {
			fmt.Fprintf(out, "preflight: pulumi %s\n", v)
		}
	}
	if p.Passphrase {
		if err := checkPassphrase(getenv); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if p.AWS {
		region := getenv("AWS_REGION")
		if region == "" {
			region = getenv("AWS_DEFAULT_REGION")
		}
		if region == "" {
			// The deploy targets default to us-east-1; the SDK does not.
			region = "us-east-1"
		}
		if !regionPattern.MatchString(region) {
			problems = append(problems, fmt.Sprintf("AWS_REGION %q is not a region name: set AWS_REGION=us-east-1 (or your region)", region))
		} else if err := checkCredentials(ctx, region, timeout); err != nil {
			problems = append(problems, err.Error())
		} else {
			fmt.Fprintf(out, "preflight: AWS credentials resolve, region %s\n", region)
		}
	}
	if len(problems) > 0 {
		return &PreflightError{Problems: problems}
	}
	return nil
}

// PulumiVersion returns the version of the pulumi on PATH.
func PulumiVersion(ctx context.Context, timeout time.Duration) (string, error) {
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
		return "", fmt.Errorf("%s does not run (`pulumi version`: %v): reinstall the Pulumi CLI", path, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s reports no version: the Automation API refuses it; install a released Pulumi CLI", path)
	}
	return v + " (" + path + ")", nil
}

// checkPassphrase: see Preflight.Passphrase.
func checkPassphrase(getenv func(string) string) error {
	if getenv("PULUMI_SECRETS_PROVIDER") != "" || getenv("PULUMI_CONFIG_PASSPHRASE") != "" {
		return nil
	}
	if strings.HasPrefix(getenv("PULUMI_BACKEND_URL"), "https://") {
		return nil
	}
	if f := getenv("PULUMI_CONFIG_PASSPHRASE_FILE"); f != "" {
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

// checkCredentials resolves AWS credentials the way the SDK (and Pulumi's
// AWS provider) will: environment, shared files, SSO, web identity,
// container or instance role.
func checkCredentials(ctx context.Context, region string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return fmt.Errorf("AWS configuration cannot be loaded (%v): check AWS_PROFILE and ~/.aws/config", err)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil || !creds.HasKeys() {
		return errors.New("no AWS credentials: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE=<profile> (run `aws sso login` first for SSO), or use an instance or OIDC role")
	}
	return nil
}
