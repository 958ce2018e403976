// Package synth runs every layer of the vault under the Pulumi SDK's mocks,
// in deploy order, and writes what each registered as one JSON document per
// layer (build/synth/<layer>.json): the resources with their inputs as the
// engine receives them, their options, and the stack outputs. Each layer's
// StackReferences are answered with the outputs synthesized for the layers
// before it. No AWS account and no Pulumi CLI are needed, and two runs give
// byte-identical files. The format is described in docs/synth.md; the policy
// gate (ops/audit) and reviewers read these files.
package synth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
	"github.com/dbvault/dbvault/stacks/kit/mock"
)

// Options choose the environment to synthesize.
type Options struct {
	// Env is environmentSuffix and the stack name; default "dev".
	Env string
	// Region is aws:region; default us-east-1.
	Region string
	// Root is the repository root: asset and archive paths are written
	// relative to it, so the files do not depend on where the clone lives.
	Root string
	// Layers to run, in deploy order.
	Layers []kit.Layer
	// Config adds or overrides project-qualified config keys
	// ("vault-secrets:alertEmail"); each layer gets its own project's.
	Config map[string]string
}

// Document is one synthesized layer. Field order is the file's key order.
type Document struct {
	Layer   string `json:"layer"`
	Project string `json:"project"`
	Stack   string `json:"stack"`
	// Config is the stack config the layer ran with (project-qualified
	// keys, as `pulumi config` shows them). No layer has secret config.
	Config    map[string]string `json:"config"`
	Resources []Resource        `json:"resources"`
	// Providers are the explicit provider resources (the stack's AWS
	// provider, with its region and defaultTags).
	Providers []Resource `json:"providers"`
	// Outputs are the stack outputs; secret ones are "[secret]".
	Outputs map[string]any `json:"outputs"`
}

// Resource is one registered resource (custom or component).
type Resource struct {
	URN    string `json:"urn"`
	Type   string `json:"type"`
	Name   string `json:"name"`
	Parent string `json:"parent"`
	// Inputs are plain JSON: secrets are "[secret]", assets and archives
	// their repository-relative path.
	Inputs map[string]any `json:"inputs"`
	// Provider is the URN of the provider the resource goes through ("":
	// the default provider), and DefaultTags that provider's defaultTags,
	// which the AWS provider merges under the resource's own tags: policy
	// reads a resource's tags as DefaultTags with inputs.tags over them.
	Provider    string            `json:"provider,omitempty"`
	DefaultTags map[string]string `json:"defaultTags,omitempty"`
	Options     Opts              `json:"options"`
}

// Opts are the resource options reviewers and policies look at.
type Opts struct {
	IgnoreChanges  []string `json:"ignoreChanges"`
	Protect        bool     `json:"protect"`
	RetainOnDelete bool     `json:"retainOnDelete"`
	DependsOn      []string `json:"dependsOn"`
}

// StackName is the fully qualified name of a layer's stack on the
// self-managed backend, the default every StackReference asks for.
func StackName(project, stack string) string {
	return fmt.Sprintf("organization/%s/%s", project, stack)
}

// layerConfig is the config of one layer for env in region: only what
// `deployAll` would set (the suffix, the region, the tag values).
func layerConfig(l kit.Layer, env, region string) map[string]string {
	p := l.Project + ":"
	return map[string]string{
		"aws:region":            region,
		p + "environmentSuffix": env,
		p + "environment":       env,
		p + "costCenter":        kit.DefaultCostCenter,
		p + "compliance":        kit.DefaultCompliance,
	}
}

// iamArn is an IAM role or user ARN, its account captured.
var iamArn = regexp.MustCompile(`arn:aws[a-z-]*:iam::(\d{12}):(?:role|user)/[\w+=,.@/-]+`)

// accountOf is the account and deployer the offline run stands in for.
// Stack files name principals of their own account, which the layers check
// against the account and the deploying principal. A reader (appUsers) must
// be a role of the vault's account, so a reader's account is the account;
// else the first administrator's. The deployer is the first administrator
// of that account; with none, the offline deployer's role in it
// (Deployer ""). Without either key, the offline account.
func accountOf(config map[string]string, offline string) (account, deployer string) {
	admins := iamArn.FindAllStringSubmatch(config[kit.KMSProject+":administrators"], -1)
	account = offline
	if m := iamArn.FindStringSubmatch(config[kit.SecretsProject+":appUsers"]); m != nil {
		account = m[1]
	} else if len(admins) > 0 {
		account = admins[0][1]
	}
	for _, a := range admins {
		if a[1] == account {
			return account, a[0]
		}
	}
	return account, ""
}

// references are the stacks layer l's StackReferences see: those
// synthesized before it, by the self-managed backend's names, and under
// the names its stack file gives them (networkStack, ...) when such a name
// is <org>/<project>/<env> of that earlier layer and environment, as
// deployAll writes them on any backend. Another name (another environment's
// stacks) stays unanswered, so the layer fails naming it: the gate does not
// judge a file against outputs the deploy would not read.
func references(stacks map[string]map[string]mock.Output, l kit.Layer, cfg map[string]string, opts Options) map[string]map[string]mock.Output {
	out := maps.Clone(stacks)
	for _, before := range opts.Layers {
		name, ok := cfg[l.Project+":"+before.Name+"Stack"]
		parts := strings.Split(name, "/")
		if !ok || len(parts) != 3 || parts[1] != before.Project || parts[2] != opts.Env {
			continue
		}
		if o, done := stacks[StackName(before.Project, opts.Env)]; done {
			out[name] = o
		}
	}
	return out
}

// Run synthesizes every layer of opts in order.
func Run(opts Options) ([]Document, error) {
	if opts.Env == "" {
		opts.Env = "dev"
	}
	if opts.Region == "" {
		opts.Region = kit.DefaultRegion
	}
	if err := kit.ValidateSuffix(opts.Env); err != nil {
		return nil, fmt.Errorf("synth: ENV: %w", err)
	}
	if opts.Root == "" {
		return nil, fmt.Errorf("synth: the repository root is required")
	}
	aws := awsfake.Env{Account: awsfake.DefaultAccount, Region: opts.Region}
	aws.Account, aws.Deployer = accountOf(opts.Config, aws.Account)
	stacks := map[string]map[string]mock.Output{}
	docs := make([]Document, 0, len(opts.Layers))
	for _, l := range opts.Layers {
		cfg := layerConfig(l, opts.Env, opts.Region)
		for k, v := range opts.Config {
			if strings.HasPrefix(k, l.Project+":") {
				cfg[k] = v
			}
		}
		res, err := mock.Run(l, mock.RunOptions{
			Stack:        opts.Env,
			Config:       cfg,
			StackOutputs: references(stacks, l, cfg, opts),
			AWS:          &aws,
		})
		if err != nil {
			return nil, fmt.Errorf("synth: layer %s: %w", l.Name, err)
		}
		stacks[StackName(l.Project, opts.Env)] = res.Outputs
		docs = append(docs, document(l, res, cfg, opts.Root))
	}
	return docs, nil
}

func document(l kit.Layer, res mock.Result, cfg map[string]string, root string) Document {
	d := Document{
		Layer:     l.Name,
		Project:   res.Project,
		Stack:     res.Stack,
		Config:    map[string]string{},
		Resources: make([]Resource, 0, len(res.Resources)),
		Outputs:   map[string]any{},
	}
	maps.Copy(d.Config, cfg)
	rel := func(p string) string { return relPath(root, p) }
	record := func(r mock.Resource) Resource {
		return Resource{
			URN:         r.URN,
			Type:        r.Type,
			Name:        r.Name,
			Parent:      r.Parent,
			Inputs:      mock.PlainMap(r.Inputs, rel),
			Provider:    r.Provider,
			DefaultTags: r.DefaultTags,
			Options: Opts{
				IgnoreChanges:  sorted(r.Options.IgnoreChanges),
				Protect:        r.Options.Protect,
				RetainOnDelete: r.Options.RetainOnDelete,
				DependsOn:      sorted(r.Options.DependsOn),
			},
		}
	}
	for _, r := range res.Resources {
		d.Resources = append(d.Resources, record(r))
	}
	d.Providers = make([]Resource, 0, len(res.Providers))
	for _, r := range res.Providers {
		d.Providers = append(d.Providers, record(r))
	}
	sort.Slice(d.Resources, func(i, j int) bool { return d.Resources[i].URN < d.Resources[j].URN })
	for k, o := range res.Outputs {
		if o.Secret {
			d.Outputs[k] = mock.SecretPlaceholder
			continue
		}
		d.Outputs[k] = o.Value
	}
	return d
}

// relPath writes an asset's path relative to the repository root with
// forward slashes; a path outside the repository keeps only its base name,
// never an absolute path that would differ between machines.
func relPath(root, p string) string {
	if !filepath.IsAbs(p) {
		return filepath.ToSlash(filepath.Clean(p))
	}
	r, err := filepath.Rel(root, p)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return filepath.Base(p)
	}
	return filepath.ToSlash(r)
}

func sorted(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}

// Marshal renders a document as the file holds it: indented JSON, object
// keys of maps sorted, HTML characters not escaped, a final newline.
func Marshal(d Document) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("synth: layer %s: %w", d.Layer, err)
	}
	return buf.Bytes(), nil
}

// Write writes each document to dir/<layer>.json (atomically: a reader never
// sees half a file) and returns the paths written.
func Write(dir string, docs []Document) ([]string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	paths := make([]string, 0, len(docs))
	for _, d := range docs {
		b, err := Marshal(d)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, d.Layer+".json")
		tmp, err := os.CreateTemp(dir, "."+d.Layer+"-*.json.tmp")
		if err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
		_, werr := tmp.Write(b)
		cerr := tmp.Close()
		if werr != nil || cerr != nil {
			_ = os.Remove(tmp.Name())
			return nil, fmt.Errorf("synth: write %s: %v %v", path, werr, cerr)
		}
		if err := os.Chmod(tmp.Name(), 0o644); err != nil { // #nosec G302 -- synth files are public build output, like any other in build/
			_ = os.Remove(tmp.Name())
			return nil, fmt.Errorf("synth: %w", err)
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			_ = os.Remove(tmp.Name())
			return nil, fmt.Errorf("synth: %w", err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}
