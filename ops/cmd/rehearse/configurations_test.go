package main

import (
	"reflect"
	"testing"

	"github.com/dbvault/dbvault/ops/deploy"
	"github.com/dbvault/dbvault/ops/rehearse"
	"github.com/dbvault/dbvault/ops/synth"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
	"github.com/dbvault/dbvault/stacks/kit/mock"
	"github.com/dbvault/dbvault/tools/workspace"
)

// environment is configuration c's environment when ENV is rehearsal.
func environment(t *testing.T, c configuration, region string) deploy.Environment {
	t.Helper()
	env, err := deploy.EnvironmentFromEnv(func(k string) string {
		return map[string]string{"ENV": "rehearsal" + c.suffix, "AWS_REGION": region}[k]
	})
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	return env
}

// Each configuration has its own stack name and scratch subdirectory, so
// that no two share a stack, a backend or the stand-in's account.
func TestConfigurationsAreDistinct(t *testing.T) {
	names, stacks := map[string]bool{}, map[string]bool{}
	for _, c := range configurations {
		env := environment(t, c, "")
		if names[c.name] || stacks[env.Name] {
			t.Errorf("configuration %s (stack %s) repeats another's name or stack", c.name, env.Name)
		}
		names[c.name], stacks[env.Name] = true, true
	}
	if len(configurations) != 3 {
		t.Errorf("%d configurations, want the ephemeral, production and existing ones", len(configurations))
	}
}

// Every configuration, synthesized under the SDK's mocks with its own
// stack configuration (in a region other than the default, to show the
// existing network is the one of the rehearsal's region): each wiring
// check finds its resources and they carry the producing layer's output,
// each protected type exists, and the existing configuration really
// serves the offline account's cluster from its VPC. A wiring entry for a
// resource the configuration does not create (the vault's own subnet group
// with an existing cluster) fails here in a second, not after minutes of
// rehearsal.
func TestEveryConfigurationsChecksFindTheirResources(t *testing.T) {
	const region = "eu-west-1"
	root, err := workspace.Root()
	if err != nil {
		t.Fatal(err)
	}
	zipPath := mock.RotatorZip(t)
	for _, c := range configurations {
		t.Run(c.name, func(t *testing.T) {
			env := environment(t, c, region)
			opts, err := c.options(env)
			if err != nil {
				t.Fatal(err)
			}
			cfg := map[string]string{kit.SecretsProject + ":rotatorZip": zipPath}
			for _, layer := range opts.Config {
				for k, v := range layer {
					cfg[k] = v.Value
				}
			}
			docs, err := synth.Run(synth.Options{Env: env.Name, Region: region, Root: root, Layers: opts.Layers, Config: cfg})
			if err != nil {
				t.Fatal(err)
			}
			byLayer := map[string]synth.Document{}
			for _, d := range docs {
				byLayer[d.Layer] = d
			}
			for _, w := range c.wiring {
				want, ok := byLayer[w.From].Outputs[w.Output]
				if !ok {
					t.Errorf("wiring %s.%s: layer %s exports no %s", w.Type, w.Input, w.From, w.Output)
					continue
				}
				n := 0
				for _, r := range byLayer[w.Layer].Resources {
					if r.Type != w.Type {
						continue
					}
					n++
					if got := rehearse.InputAt(r.Inputs, w.Input); !reflect.DeepEqual(got, want) {
						t.Errorf("%s %s: %s = %v, want %s.%s = %v", w.Layer, r.Name, w.Input, got, w.From, w.Output, want)
					}
				}
				if n == 0 {
					t.Errorf("wiring %s.%s: layer %s has no %s", w.Type, w.Input, w.Layer, w.Type)
				}
			}
			for _, p := range c.protected {
				if !hasType(byLayer[p.Layer], p.Type) {
					t.Errorf("protected: layer %s has no %s", p.Layer, p.Type)
				}
			}
			if c.name != "existing" {
				return
			}
			fake := awsfake.Env{Account: awsfake.DefaultAccount, Region: region}
			if got := byLayer["network"].Outputs["vpcId"]; got != fake.ExistingVpcID() {
				t.Errorf("network vpcId = %v, want the existing VPC %s", got, fake.ExistingVpcID())
			}
			db := byLayer["database"].Outputs
			if db["existingCluster"] != true || db["clusterIdentifier"] != awsfake.ExistingClusterIdentifier {
				t.Errorf("database existingCluster = %v, clusterIdentifier = %v, want the existing cluster %s", db["existingCluster"], db["clusterIdentifier"], awsfake.ExistingClusterIdentifier)
			}
			if hasType(byLayer["database"], "aws:rds/cluster:Cluster") {
				t.Error("the existing configuration creates a cluster")
			}
		})
	}
}

func hasType(d synth.Document, typ string) bool {
	for _, r := range d.Resources {
		if r.Type == typ {
			return true
		}
	}
	return false
}
