// Package mock runs a layer's program under the Pulumi SDK's mocks and
// records what the program registers, as the engine would receive it: every
// resource's type, name, parent, inputs and options, and the stack outputs.
// Tests assert on these records, and synth writes them out.
package mock

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"

	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
)

// StackReferenceType is the type a StackReference registers under.
const StackReferenceType = "pulumi:pulumi:StackReference"

// Resource is one registered resource.
type Resource struct {
	URN    string
	Type   string
	Name   string
	Parent string
	Custom bool
	// Provider is the URN of the provider the resource goes through ("":
	// the default provider).
	Provider string
	// DefaultTags are that provider's defaultTags, which the AWS provider
	// merges under the resource's own tags (Tags returns the merge).
	DefaultTags map[string]string
	// Inputs are the inputs as the engine receives them (secrets stay secret).
	Inputs resource.PropertyMap
	// Outputs are the inputs plus what awsfake computes.
	Outputs resource.PropertyMap
	Options Options
}

// Options are the resource options that matter to reviewers and policy.
type Options struct {
	IgnoreChanges           []string
	Protect                 bool
	RetainOnDelete          bool
	DeleteBeforeReplace     bool
	DependsOn               []string
	AdditionalSecretOutputs []string
}

// Output is one stack output.
type Output struct {
	// Value is plain JSON data (string, float64, bool, []any,
	// map[string]any or nil), as a StackReference or `pulumi stack output
	// --json` would see it, whatever Go type the program exported.
	Value  any
	Secret bool
}

// plainJSON converts an exported Go value (pulumi.ID, []string, int, ...)
// to plain JSON data.
func plainJSON(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

// Result is what one mocked run of a layer registered.
type Result struct {
	Project, Stack string
	// Resources are the registered resources but providers, sorted by URN.
	// Each names its provider and carries that provider's defaultTags.
	Resources []Resource
	// Providers are the explicit provider resources (type
	// pulumi:providers:<package>), sorted by URN.
	Providers []Resource
	Outputs   map[string]Output
	// References are the fully qualified stack names the layer referenced.
	References []string
}

// ByType returns the resources of type typ.
func (r Result) ByType(typ string) []Resource {
	var out []Resource
	for _, res := range r.Resources {
		if res.Type == typ {
			out = append(out, res)
		}
	}
	return out
}

// RunOptions configure a mocked run.
type RunOptions struct {
	// Stack name; default "dev".
	Stack string
	// Organization is the backend's organisation the program runs in
	// (empty: none, as on a self-managed backend).
	Organization string
	// Config is the stack config as project-qualified keys ("vault-network:environmentSuffix").
	Config map[string]string
	// SecretKeys lists the Config keys that are secret.
	SecretKeys []string
	// StackOutputs answers StackReferences: fully qualified stack name to outputs.
	StackOutputs map[string]map[string]Output
	// AWS is the offline account and region; default awsfake.Default().
	AWS *awsfake.Env
	// Invokes answer provider functions by token instead of awsfake, for a
	// test that needs AWS to answer otherwise (a zone without an offering).
	Invokes map[string]func(args resource.PropertyMap) (resource.PropertyMap, error)
}

type monitor struct {
	project, stack string
	aws            awsfake.Env
	invokes        map[string]func(resource.PropertyMap) (resource.PropertyMap, error)
	stackOutputs   map[string]map[string]Output

	mu         sync.Mutex
	resources  []Resource
	references []string
	// defaultTags are the defaultTags of each explicit provider, by URN.
	defaultTags map[string]map[string]string
}

// Run runs layer under the SDK's mocks and returns what it registered
// (on an error, what it registered before it, and the error).
func Run(layer kit.Layer, opts RunOptions) (Result, error) {
	if opts.Stack == "" {
		opts.Stack = "dev"
	}
	env := awsfake.Default()
	if opts.AWS != nil {
		env = *opts.AWS
	}
	m := &monitor{project: layer.Project, stack: opts.Stack, aws: env, stackOutputs: opts.StackOutputs, invokes: opts.Invokes}
	outputs := map[string]Output{}
	program := func(ctx *pulumi.Context) error {
		exports, err := layer.Run(ctx)
		if err != nil {
			return err
		}
		for k, v := range exports {
			res, err := internals.UnsafeAwaitOutput(ctx.Context(), pulumi.ToOutput(v))
			if err != nil {
				return fmt.Errorf("output %s: %w", k, err)
			}
			value, err := plainJSON(res.Value)
			if err != nil {
				return fmt.Errorf("output %s: %w", k, err)
			}
			outputs[k] = Output{Value: value, Secret: res.Secret}
		}
		return nil
	}
	withConfig := func(ri *pulumi.RunInfo) {
		ri.Config = opts.Config
		ri.ConfigSecretKeys = opts.SecretKeys
		ri.Organization = opts.Organization
	}
	// On an error the result still holds what was registered before it, so
	// a test can show that a refusal registered nothing.
	err := pulumi.RunErr(program, pulumi.WithMocks(layer.Project, opts.Stack, m), withConfig)
	m.mu.Lock()
	defer m.mu.Unlock()
	sort.Slice(m.resources, func(i, j int) bool { return m.resources[i].URN < m.resources[j].URN })
	sort.Strings(m.references)
	res := Result{Project: layer.Project, Stack: opts.Stack, Outputs: outputs, References: m.references}
	for _, r := range m.resources {
		if strings.HasPrefix(r.Type, ProviderTypePrefix) {
			res.Providers = append(res.Providers, r)
		} else {
			res.Resources = append(res.Resources, r)
		}
	}
	if err != nil {
		return Result{Project: res.Project, Stack: res.Stack, Providers: res.Providers, Resources: res.Resources}, err
	}
	return res, nil
}

// urn computes the URN the engine gives a resource, as the SDK's own mock
// monitor does.
func (m *monitor) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.stack), tokens.PackageName(m.project), parentType, tokens.Type(typ), name))
}

// NewResource implements pulumi.MockResourceMonitor.
func (m *monitor) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rpc := args.RegisterRPC
	if args.TypeToken == StackReferenceType {
		name := args.ID
		if name == "" {
			name = args.Name
		}
		m.mu.Lock()
		m.references = append(m.references, name)
		m.mu.Unlock()
		outs, ok := m.stackOutputs[name]
		if !ok {
			return "", nil, fmt.Errorf("stack reference %q: no such stack in this run", name)
		}
		props := resource.PropertyMap{}
		for k, o := range outs {
			v := resource.NewPropertyValue(o.Value)
			if o.Secret {
				v = resource.MakeSecret(v)
			}
			props[resource.PropertyKey(k)] = v
		}
		return name, resource.PropertyMap{
			"name":    resource.NewProperty(name),
			"outputs": resource.NewProperty(props),
		}, nil
	}
	id, outputs := m.aws.Resource(args.TypeToken, args.Name, args.Inputs)
	if !args.Custom {
		id = ""
	}
	urn := m.urn(rpc.GetParent(), args.TypeToken, args.Name)
	provider := providerURN(args.Provider)
	r := Resource{
		URN:      urn,
		Type:     args.TypeToken,
		Name:     args.Name,
		Parent:   rpc.GetParent(),
		Custom:   args.Custom,
		Provider: provider,
		Inputs:   args.Inputs,
		Outputs:  outputs,
		Options: Options{
			IgnoreChanges:           rpc.GetIgnoreChanges(),
			Protect:                 rpc.GetProtect(),
			RetainOnDelete:          rpc.GetRetainOnDelete(),
			DeleteBeforeReplace:     rpc.GetDeleteBeforeReplace(),
			DependsOn:               rpc.GetDependencies(),
			AdditionalSecretOutputs: rpc.GetAdditionalSecretOutputs(),
		},
	}
	sort.Strings(r.Options.DependsOn)
	m.mu.Lock()
	defer m.mu.Unlock()
	if strings.HasPrefix(args.TypeToken, ProviderTypePrefix) {
		tags, err := DefaultTags(args.Inputs)
		if err != nil {
			return "", nil, fmt.Errorf("provider %s: %w", args.Name, err)
		}
		if m.defaultTags == nil {
			m.defaultTags = map[string]map[string]string{}
		}
		m.defaultTags[urn] = tags
	}
	// The SDK registers a resource only once its provider's ID is known,
	// so the provider is already here.
	r.DefaultTags = m.defaultTags[provider]
	m.resources = append(m.resources, r)
	return id, outputs, nil
}

// ProviderTypePrefix starts the type of every provider resource.
const ProviderTypePrefix = "pulumi:providers:"

// providerURN is the URN part of a provider reference "<urn>::<id>" (the
// form the SDK sends; a URN holds "::" too, the ID does not).
func providerURN(ref string) string {
	if i := strings.LastIndex(ref, "::"); i >= 0 {
		return ref[:i]
	}
	return ref
}

// DefaultTags reads an AWS provider's defaultTags.tags from its inputs. The
// SDK may send a provider's object-valued config JSON-encoded as a string
// (the form the engine keeps for providers); both forms are read.
func DefaultTags(inputs resource.PropertyMap) (map[string]string, error) {
	v, ok := inputs["defaultTags"]
	if !ok || v.IsNull() {
		return nil, nil
	}
	var dt struct {
		Tags map[string]string `json:"tags"`
	}
	if v.IsString() {
		if err := json.Unmarshal([]byte(v.StringValue()), &dt); err != nil {
			return nil, fmt.Errorf("defaultTags: %w", err)
		}
		return dt.Tags, nil
	}
	b, err := json.Marshal(Plain(v, nil))
	if err != nil {
		return nil, fmt.Errorf("defaultTags: %w", err)
	}
	if err := json.Unmarshal(b, &dt); err != nil {
		return nil, fmt.Errorf("defaultTags: %w", err)
	}
	return dt.Tags, nil
}

// Call implements pulumi.MockResourceMonitor: provider functions (invokes).
func (m *monitor) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	if f, ok := m.invokes[args.Token]; ok {
		return f(args.Args)
	}
	return m.aws.Invoke(args.Token, args.Args)
}

// TaggingProblems reports what breaks the way the layers tag: the run has
// not exactly one provider, a custom resource does not go through it, or a
// resource sets a compliance tag (kit.TagKeys) itself, which would override
// the provider's default tag. Empty when all is as it should be.
func (r Result) TaggingProblems() []string {
	if len(r.Providers) != 1 {
		return []string{fmt.Sprintf("%d AWS providers, want the stack's one", len(r.Providers))}
	}
	provider := r.Providers[0].URN
	var out []string
	for _, res := range r.Resources {
		if res.Custom && res.Provider != provider {
			out = append(out, fmt.Sprintf("%s (%s): provider %q, want the stack's %q", res.Name, res.Type, res.Provider, provider))
		}
		for _, k := range kit.TagKeys {
			if _, own := res.OwnTags()[k]; own {
				out = append(out, fmt.Sprintf("%s (%s): sets its own %s tag; the provider's defaultTags carry it", res.Name, res.Type, k))
			}
		}
	}
	return out
}
