package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/dbvault/dbvault/ops/deploy/preflight"
)

// MissingPulumi is the preflight line for a missing Pulumi CLI.
var MissingPulumi = preflight.MissingPulumi

// Preflight checks what the deploy targets need before any Pulumi work
// starts, so a missing piece costs seconds, not a half-built environment.
type Preflight struct {
	// Getenv reads the environment (os.Getenv in production).
	Getenv func(string) string
	// Pulumi checks that the Pulumi CLI is on PATH and is the pinned
	// version (preflight.PinnedPulumi).
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
type PreflightError = preflight.Error

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
		v, err := preflight.Pulumi(ctx, timeout)
		if err != nil {
			problems = append(problems, err.Error())
		} else {
			fmt.Fprintf(out, "preflight: pulumi %s\n", v)
		}
	}
	if p.Passphrase {
		if err := preflight.Passphrase(getenv); err != nil {
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
		if !preflight.RegionPattern.MatchString(region) {
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
		return errors.New(preflight.NoCredentials)
	}
	return nil
}
