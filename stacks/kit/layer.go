package kit

import (
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Project names of the four layers, in deploy order. They are the `name` in
// each stacks/<layer>/Pulumi.yaml and the project of every inline run, so
// `pulumi up` in a layer's folder and `mage deployAll` manage the same stacks.
const (
	NetworkProject  = "vault-network"
	KMSProject      = "vault-kms"
	DatabaseProject = "vault-database"
	SecretsProject  = "vault-secrets"
)

// Layer is one stack's program. Run builds the layer and returns its stack
// outputs; Program exports them. main.go, the tests, synth and the deploy
// orchestration all go through the same Layer value.
type Layer struct {
	// Name is the layer's short name: network, kms, database or secrets.
	Name string
	// Project is the Pulumi project name.
	Project string
	// Run builds the layer's resources and returns the outputs to export.
	Run func(ctx *pulumi.Context) (pulumi.Map, error)
}

// NewLayer is the layer name of project whose program starts as every
// layer's does, reading the common configuration and creating the stack's
// provider (LoadCommon), and then builds the layer with run.
func NewLayer(name, project string, run func(ctx *pulumi.Context, common Common) (pulumi.Map, error)) Layer {
	return Layer{Name: name, Project: project, Run: func(ctx *pulumi.Context) (pulumi.Map, error) {
		common, err := LoadCommon(ctx)
		if err != nil {
			return nil, err
		}
		return run(ctx, common)
	}}
}

// Program is the pulumi.RunFunc of the layer: Run, then export every output.
func (l Layer) Program(ctx *pulumi.Context) error {
	outputs, err := l.Run(ctx)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(outputs))
	for k := range outputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ctx.Export(k, outputs[k])
	}
	return nil
}
