// Command rehearse is `go run mage.go rehearse`: it deploys and destroys
// every layer offline on the real Pulumi engine with the stand-in AWS
// provider (package ops/rehearse), prints a progress line per layer and a
// summary table, and exits non-zero unless every check held.
//
// Environment: ENV (the stack name; default rehearsal), AWS_REGION (default
// us-east-1), KEEP=1 keeps the scratch directory (backend, state, Pulumi's
// log) for inspection.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/dbvault/dbvault/ops/deploy"
	"github.com/dbvault/dbvault/ops/layers"
	"github.com/dbvault/dbvault/ops/rehearse"
	"github.com/dbvault/dbvault/ops/rehearse/tools"
)

// wiring are the cross-layer values the rehearsal checks in the deployed
// state: each consuming resource carries exactly the producing layer's
// output, resolved through a StackReference on the real backend.
var wiring = []rehearse.Wiring{
	{Layer: "database", Type: "aws:rds/subnetGroup:SubnetGroup", Input: "subnetIds", From: "network", Output: "privateSubnetIds"},
	{Layer: "database", Type: "aws:rds/cluster:Cluster", Input: "kmsKeyId", From: "kms", Output: "databaseKeyArn"},
	{Layer: "database", Type: "aws:rds/cluster:Cluster", Input: "masterUserSecretKmsKeyId", From: "kms", Output: "secretsKeyArn"},
	{Layer: "secrets", Type: "aws:secretsmanager/secret:Secret", Input: "kmsKeyId", From: "kms", Output: "secretsKeyArn"},
}

// rehearsalReader is the role that reads the rehearsal's application secret.
const rehearsalReader = "arn:aws:iam::123456789012:role/orders-api"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rehearse:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	root, err := tools.RepoRoot()
	if err != nil {
		return err
	}
	cli, err := tools.EnsureCLI(ctx, root, os.Stderr)
	if err != nil {
		return err
	}
	env, err := deploy.EnvironmentFromEnv(func(k string) string {
		if v := os.Getenv(k); v != "" || k != "ENV" {
			return v
		}
		return "rehearsal"
	})
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "dbvault-rehearsal-*")
	if err != nil {
		return err
	}
	keep := os.Getenv("KEEP") != ""
	standinDir, err := tools.BuildStandin(ctx, root, filepath.Join(dir, "bin"), os.Stderr)
	if err != nil {
		return err
	}
	_, err = rehearse.Run(ctx, rehearse.Options{
		Layers:     layers.All,
		Env:        env,
		CLIRoot:    cli,
		StandinDir: standinDir,
		Dir:        dir,
		Out:        os.Stdout,
		Wiring:     wiring,
		// An application user with a reader role, declared as an operator
		// would (the role is the offline account's), so that the key
		// policy, the secret's resource policy and the rotator's
		// declarations all carry it.
		Config: map[string]deploy.Config{
			"kms":     {"vault-kms:secretReaders": {Value: `["` + rehearsalReader + `"]`}},
			"secrets": {"vault-secrets:appUsers": {Value: `[{"name": "app", "privileges": ["SELECT", "INSERT", "UPDATE", "DELETE"], "readers": ["` + rehearsalReader + `"]}]`}},
		},
	})
	fmt.Printf("rehearsal took %s\n", time.Since(start).Round(100*time.Millisecond))
	if keep || err != nil {
		fmt.Printf("scratch directory kept: %s\n", dir)
	} else if rmErr := os.RemoveAll(dir); rmErr != nil {
		return rmErr
	}
	return err
}
