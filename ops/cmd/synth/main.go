// Command synth runs every layer of the vault under the Pulumi SDK's mocks, in
// deploy order, and writes build/synth/<layer>.json (format: docs/synth.md).
// Offline: no AWS credentials, no Pulumi CLI.
//
//	go run ./ops/cmd/synth [-out build/synth] [-env $ENV|dev] [-region $AWS_REGION|us-east-1]
//	                       [-class $ENVIRONMENT_CLASS|ephemeral] [-existing $EXISTING|none]
//
// -existing network places the vault in the offline account's existing VPC
// (stacks/kit/awsfake), and -existing cluster also serves its existing
// Aurora cluster, so that `EXISTING=cluster go run mage.go audit` judges
// those configurations as the policy gate would a real one.
//
// Run it from the repository (it finds the root by its go.work): asset paths
// in the files are relative to the root.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dbvault/dbvault/ops/layers"
	"github.com/dbvault/dbvault/ops/synth"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fl := flag.NewFlagSet("synth", flag.ContinueOnError)
	out := fl.String("out", filepath.Join("build", "synth"), "folder to write <layer>.json into (relative to the repository root)")
	env := fl.String("env", envOr("ENV", "dev"), "environmentSuffix and stack name")
	region := fl.String("region", envOr("AWS_REGION", "us-east-1"), "aws:region")
	class := fl.String("class", envOr("ENVIRONMENT_CLASS", "ephemeral"), "environmentClass of every layer: ephemeral or production")
	existing := fl.String("existing", envOr("EXISTING", "none"), "none, network (the offline account's existing VPC) or cluster (and its existing Aurora cluster)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	cfg := map[string]string{}
	for _, l := range layers.All {
		cfg[l.Project+":environmentClass"] = *class
	}
	if err := existingConfig(cfg, *existing, *region); err != nil {
		return err
	}
	docs, err := synth.Run(synth.Options{Env: *env, Region: *region, Root: root, Layers: layers.All, Config: cfg})
	if err != nil {
		return err
	}
	dir := *out
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	paths, err := synth.Write(dir, docs)
	if err != nil {
		return err
	}
	for i, d := range docs {
		rel, _ := filepath.Rel(root, paths[i])
		fmt.Printf("%-9s %3d resources, %2d outputs -> %s\n", d.Layer, len(d.Resources), len(d.Outputs), rel)
	}
	return nil
}

// existingConfig adds the configuration of the offline account's existing
// network (and cluster) in region.
func existingConfig(cfg map[string]string, existing, region string) error {
	fake := awsfake.Env{Account: awsfake.DefaultAccount, Region: region}
	switch existing {
	case "none":
		return nil
	case "cluster":
		cfg[kit.DatabaseProject+":existingClusterIdentifier"] = awsfake.ExistingClusterIdentifier
	case "network":
	default:
		return fmt.Errorf("-existing %q: expected none, network or cluster", existing)
	}
	subnets, err := json.Marshal(fake.ExistingSubnetIDs())
	if err != nil {
		return err
	}
	cfg[kit.NetworkProject+":existingVpcId"] = fake.ExistingVpcID()
	cfg[kit.NetworkProject+":existingSubnetIds"] = string(subnets)
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// repoRoot is the nearest folder at or above the working directory that
// holds go.work.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.work at or above %s: run synth from inside the repository", wd)
		}
	}
}
