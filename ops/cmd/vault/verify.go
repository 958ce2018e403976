package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/dbvault/dbvault/ops/deploy"
	"github.com/dbvault/dbvault/ops/verify"
)

// fakeClients, set by tests only, replaces the AWS clients of verify; with
// SECRETS_MANAGER_ENDPOINT set, Secrets Manager is still the real client at
// that endpoint (the emulator).
var fakeClients *verify.Clients

// verifyEnv runs `vault verify`: the read-only checks of ops/verify over the
// environment's stack outputs (or those of -outputs FILE), one line each;
// an error when any fails.
func verifyEnv(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("outputs", getenv("VERIFY_OUTPUTS"), `JSON file of the layers' outputs, {"network": {...}, "kms": {...}, "database": {...}, "secrets": {...}}, instead of reading ENV's stacks`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("takes no arguments besides -outputs\n%s", usage)
	}
	endpoint := getenv("SECRETS_MANAGER_ENDPOINT")
	// The runbooks point SECRETS_MANAGER_ENDPOINT at the local emulator
	// for status and rotate; left set, it would make the secrets' lines
	// judge the emulator while every other line reads AWS. A real endpoint
	// (a VPC endpoint's own name, say) is https.
	if fakeClients == nil && endpoint != "" && !strings.HasPrefix(endpoint, "https://") {
		return fmt.Errorf("SECRETS_MANAGER_ENDPOINT is %s, not an AWS endpoint (https://...): verify reads the deployed environment; unset it (unset SECRETS_MANAGER_ENDPOINT)", endpoint)
	}
	// The SDK also takes endpoints from these (service-specific endpoints,
	// https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html):
	// verify reads AWS itself, or one service's endpoint named above.
	for _, name := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER"} {
		if fakeClients == nil && getenv(name) != "" {
			return fmt.Errorf("%s is set (%s): verify reads the deployed environment through AWS's endpoints; unset it (unset %s)", name, getenv(name), name)
		}
	}
	envName := getenv("ENV")
	var outs verify.Outputs
	var err error
	if *file != "" {
		if outs, err = verify.ReadOutputsFile(*file); err != nil {
			return err
		}
	} else if outs, err = stackOutputs(ctx, getenv, stderr); err != nil {
		return err
	}
	region, err := verifyRegion(outs, getenv("AWS_REGION"))
	if err != nil {
		return err
	}
	// Against AWS, credentials must resolve; only tests, whose fakes stand
	// for every other service, skip it when Secrets Manager is the emulator.
	if !(fakeClients != nil && endpoint != "") {
		if err := (deploy.Preflight{Getenv: getenv, AWS: true}).Run(ctx); err != nil {
			return err
		}
	}
	var clients verify.Clients
	if fakeClients != nil {
		clients = *fakeClients
		if endpoint != "" {
			sm, err := secretsClient(ctx, region, endpoint, getenv("AWS_ACCESS_KEY_ID") != "")
			if err != nil {
				return err
			}
			clients.SecretsManager = sm
		}
	} else {
		cfg, err := awsConfig(ctx, region, false)
		if err != nil {
			return err
		}
		clients = verify.NewClients(cfg, endpoint)
	}
	v := &verify.Verifier{Clients: clients, Outputs: outs, Env: envName, Fresh: getenv("VERIFY_FRESH") == "1"}
	res := v.Run(ctx)
	if n := verify.Print(stdout, res); n > 0 {
		return fmt.Errorf("%d of %d checks failed: see the FAIL lines above, each with its fix", n, len(res))
	}
	return nil
}

// verifyRegion is the region verify reads: the one the environment's
// secrets and keys are in (their ARNs), which AWS_REGION may only repeat.
// A region read wrongly would look for the trail's events, the rules and
// the cluster where they are not, and CloudTrail's event history of
// another region holds none of the vault's events.
func verifyRegion(outs verify.Outputs, env string) (string, error) {
	return regionOf(outs.Region(), env, "the environment's secrets and keys are in")
}

// regionOf is the region to call: region, read from the ARNs of what the
// call is about, which AWS_REGION (env) may only repeat; AWS_REGION, else
// us-east-1, when there is no ARN to read. where says what is in region.
func regionOf(region, env, where string) (string, error) {
	switch {
	case region == "" && env == "":
		return "us-east-1", nil
	case region == "":
		return env, nil
	case env != "" && env != region:
		return "", fmt.Errorf("AWS_REGION is %s, but %s %s: unset AWS_REGION or set it to %s", env, where, region, region)
	}
	return region, nil
}

// stackOutputs reads the outputs of the layers verify needs from ENV's
// stacks, as `outputs:<layer>` does.
func stackOutputs(ctx context.Context, getenv func(string) string, stderr io.Writer) (verify.Outputs, error) {
	env, err := deploy.EnvironmentFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("set ENV to read the environment's stacks, or -outputs FILE (VERIFY_OUTPUTS): %w", err)
	}
	if err := (deploy.Preflight{Getenv: getenv, Pulumi: true, Passphrase: true}).Run(ctx); err != nil {
		return nil, err
	}
	orch, err := orchestrator(ctx, env, getenv, nil, io.Discard, stderr)
	if err != nil {
		return nil, err
	}
	outs := verify.Outputs{}
	var errs []error
	for _, layer := range verify.Layers {
		o, err := orch.Outputs(ctx, layer)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		outs[layer] = map[string]any{}
		for k, v := range o {
			outs[layer][k] = v.Value
		}
	}
	return outs, errors.Join(errs...)
}
