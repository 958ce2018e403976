// Command synth runs every layer of the vault under the Pulumi SDK's mocks, in
// deploy order, and writes build/synth/<layer>.json (format: docs/synth.md).
// Offline: no AWS credentials, no Pulumi CLI.
//
//	go run ./ops/cmd/synth [-out build/synth] [-env $ENV|dev] [-region $AWS_REGION|us-east-1]
//	                       [-class $ENVIRONMENT_CLASS|ephemeral] [-existing $EXISTING|none]
//
// -existing network places the vault in the offline account's existing VPC
// (stacks/kit/awsfake), and -existing cluster also serves its existing
// Aurora cluster, so that `EXISTING=cluster go run mage.go dev:audit` judges
// those configurations as the policy gate would a real one.
//
// Where stacks/<layer>/Pulumi.<env>.yaml exists (`go run mage.go configure`
// writes it), synth reads it as the stack would: the graph, and so the
// policy gate, judges the configuration that will be deployed. -class,
// -existing and -region fill what the files leave unset; given explicitly
// (flag or variable) against a file that says otherwise, synth stops and
// names both. -stack-files=false synthesizes the defaults alone.
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
	"strings"

	"github.com/dbvault/dbvault/ops/layers"
	"github.com/dbvault/dbvault/ops/synth"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
	"github.com/dbvault/dbvault/tools/workspace"
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
	stackFiles := fl.Bool("stack-files", true, "read stacks/<layer>/Pulumi.<env>.yaml where it exists")
	if err := fl.Parse(args); err != nil {
		return err
	}
	root, err := workspace.Root()
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fl.Visit(func(f *flag.Flag) { set[f.Name] = true })
	given := func(name, variable string) bool { return set[name] || os.Getenv(variable) != "" }
	files := synth.StackFiles{Config: map[string]string{}}
	if *stackFiles {
		if files, err = synth.ReadStackFiles(root, *env, layers.All); err != nil {
			return err
		}
		for _, f := range files.Files {
			fmt.Printf("reading   %s\n", f)
		}
	}
	cfg, err := merge(files, *class, given("class", "ENVIRONMENT_CLASS"), *existing, *region)
	if err != nil {
		return err
	}
	switch {
	case files.Region == "":
	case given("region", "AWS_REGION") && files.Region != *region:
		return fmt.Errorf("the stack files set aws:region %s, -region (or AWS_REGION) says %s: unset one", files.Region, *region)
	default:
		*region = files.Region
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

// merge is the config to synthesize: the stack files' values, then the
// environment class and the existing resources chosen by flag where the
// files say nothing. A class given explicitly (classGiven) or an existing
// resource chosen that a file contradicts is refused, naming both.
func merge(files synth.StackFiles, class string, classGiven bool, existing, region string) (map[string]string, error) {
	cfg := map[string]string{}
	for k, v := range files.Config {
		cfg[k] = v
	}
	chosen := map[string]string{}
	if err := existingConfig(chosen, existing, region); err != nil {
		return nil, err
	}
	for _, l := range layers.All {
		k := l.Project + ":environmentClass"
		if _, inFile := cfg[k]; !inFile || classGiven {
			chosen[k] = class
		}
	}
	for k, v := range chosen {
		if have, ok := cfg[k]; ok && have != v {
			layer := k
			for _, l := range layers.All {
				if strings.HasPrefix(k, l.Project+":") {
					layer = l.Name
				}
			}
			return nil, fmt.Errorf("the %s layer's stack file sets %s to %s, the flags (or ENVIRONMENT_CLASS, EXISTING) to %s: unset one", layer, k, have, v)
		}
		cfg[k] = v
	}
	return cfg, nil
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
