// Command rehearse is `go run mage.go rehearse`: it deploys and destroys
// every layer offline on the real Pulumi engine with the stand-in AWS
// provider (package ops/rehearse), twice: an ephemeral environment, then a
// production one (environmentClass=production in every layer), whose
// protected resources must refuse a destroyAll before it is retired as
// docs/runbooks.md says. It prints a progress line per layer and a summary
// table per class, and exits non-zero unless every check of both held.
//
// Environment: ENV (the ephemeral environment's stack name; default
// rehearsal; the production one is ENV-prod), AWS_REGION (default
// us-east-1), KEEP=1 keeps the scratch directory (backend, state, Pulumi's
// log, one subdirectory per class) for inspection.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/dbvault/dbvault/stacks/kit"

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

// protected are the resources a production environment protects: the
// cluster and its instances, the KMS keys, the application secrets and the
// trail's bucket (docs/runbooks.md, "Retiring a production environment").
var protected = []rehearse.Protected{
	{Layer: "kms", Type: "aws:kms/key:Key"},
	{Layer: "database", Type: "aws:rds/cluster:Cluster"},
	{Layer: "database", Type: "aws:rds/clusterInstance:ClusterInstance"},
	{Layer: "secrets", Type: "aws:secretsmanager/secret:Secret"},
	{Layer: "secrets", Type: "aws:s3/bucketV2:BucketV2"},
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
	// An application user with a reader role, declared as an operator
	// would (the role is the offline account's), once, in the secrets
	// layer, so that the secret's resource policy and the rotator's
	// declarations carry it.
	appConfig := func() map[string]deploy.Config {
		return map[string]deploy.Config{
			"secrets": {"vault-secrets:appUsers": {Value: `[{"name": "app", "privileges": ["SELECT", "INSERT", "UPDATE", "DELETE"], "readers": ["` + rehearsalReader + `"]}]`}},
		}
	}
	var failed []string
	var times []string
	for _, class := range []string{kit.Ephemeral, kit.Production} {
		classStart := time.Now()
		opts := rehearse.Options{
			Layers:     layers.All,
			Env:        env,
			CLIRoot:    cli,
			StandinDir: standinDir,
			Dir:        filepath.Join(dir, class),
			Out:        os.Stdout,
			Wiring:     wiring,
			Config:     appConfig(),
		}
		if class == kit.Production {
			prod, err := deploy.EnvironmentFromEnv(func(k string) string {
				if k == "ENV" {
					return env.Name + "-prod"
				}
				return os.Getenv(k)
			})
			if err != nil {
				return err
			}
			opts.Env = prod
			opts.Production = true
			opts.Protected = protected
			for _, l := range layers.All {
				if opts.Config[l.Name] == nil {
					opts.Config[l.Name] = deploy.Config{}
				}
				opts.Config[l.Name][l.Project+":environmentClass"] = deploy.ConfigValue{Value: kit.Production}
			}
		}
		fmt.Printf("\n=== rehearsal of a%s %s environment: %s\n\n", map[bool]string{true: "n"}[class == kit.Ephemeral], class, opts.Env.Name)
		if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
			return err
		}
		if _, err := rehearse.Run(ctx, opts); err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", class, err))
		}
		times = append(times, fmt.Sprintf("%s %s", class, time.Since(classStart).Round(100*time.Millisecond)))
	}
	if len(failed) > 0 {
		err = fmt.Errorf("%s", strings.Join(failed, "\n"))
	}
	fmt.Printf("\nrehearsal took %s (%s)\n", time.Since(start).Round(100*time.Millisecond), strings.Join(times, ", "))
	if keep || err != nil {
		fmt.Printf("scratch directory kept: %s\n", dir)
	} else if rmErr := os.RemoveAll(dir); rmErr != nil {
		return rmErr
	}
	return err
}
