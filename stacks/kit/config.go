package kit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// DefaultRegion is where an environment goes when aws:region is not set.
const DefaultRegion = "us-east-1"

// Default tag values, used when the stack's config does not set them.
const (
	DefaultCostCenter = "platform-security"
	DefaultCompliance = "soc2"
)

// Common is the configuration every layer reads.
type Common struct {
	// Suffix is environmentSuffix: the stack's environment, the last part of
	// every physical name.
	Suffix string
	// Region is aws:region.
	Region string
	// Tags are the compliance tags (config environment, costCenter,
	// compliance; Environment defaults to the suffix).
	Tags Tags
	// Class is environmentClass: Ephemeral (the default) or Production.
	Class string
	// Provider is the stack's AWS provider (NewProvider): every resource
	// and invoke of the layer goes through it, with AWS().
	Provider *aws.Provider
}

// AWS is the option that sends a resource, a component's children or an
// invoke through the stack's provider.
func (c Common) AWS() pulumi.ResourceOrInvokeOption { return pulumi.Provider(c.Provider) }

// Name is the physical name of a resource of this environment.
func (c Common) Name(resourceType string) string { return Name(resourceType, c.Suffix) }

// LoadCommon reads and validates the common configuration from the project's
// namespace, and creates the stack's AWS provider, which tags every resource.
func LoadCommon(ctx *pulumi.Context) (Common, error) {
	cfg := config.New(ctx, "")
	c := Common{
		Suffix: cfg.Get("environmentSuffix"),
		Region: config.New(ctx, "aws").Get("region"),
		Tags: Tags{
			Environment: cfg.Get("environment"),
			CostCenter:  cfg.Get("costCenter"),
			Compliance:  cfg.Get("compliance"),
		},
	}
	if err := ValidateSuffix(c.Suffix); err != nil {
		return Common{}, fmt.Errorf("%w: pulumi config set environmentSuffix <value>", err)
	}
	class, err := loadClass(cfg)
	if err != nil {
		return Common{}, err
	}
	c.Class = class
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.Tags.Environment == "" {
		c.Tags.Environment = c.Suffix
	}
	if c.Tags.CostCenter == "" {
		c.Tags.CostCenter = DefaultCostCenter
	}
	if c.Tags.Compliance == "" {
		c.Tags.Compliance = DefaultCompliance
	}
	p, err := NewProvider(ctx, ProviderName, c.Region, c.Tags)
	if err != nil {
		return Common{}, err
	}
	c.Provider = p
	return c, nil
}

// StackName returns the fully qualified name of the stack of project that
// this layer references: config key (e.g. networkStack) when set, else
// <org>/<project>/<this stack's name> in this stack's own organisation
// (ctx.Organization(): the Pulumi Cloud organisation, "organization" on a
// self-managed backend, which is also the fallback when the engine names
// none).
func StackName(ctx *pulumi.Context, key, project string) string {
	if v := config.New(ctx, "").Get(key); v != "" {
		return v
	}
	org := ctx.Organization()
	if org == "" {
		org = "organization"
	}
	return fmt.Sprintf("%s/%s/%s", org, project, ctx.Stack())
}

// IntConfig reads key from cfg as a whole number, def when it is not set.
func IntConfig(cfg *config.Config, key string, def int) (int, error) {
	s := cfg.Get(key)
	if s == "" {
		return def, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s is %q; it must be a whole number", key, s)
	}
	return v, nil
}

// NonZeroInts reads each key of into as a whole number (IntConfig) into the
// int it points to, leaving it 0 when the key is not set: the components'
// "not set", which they give its default. A key set to 0 is refused, with
// "<key> is 0; " and then zero: passed on, it would silently get the
// default.
func NonZeroInts(cfg *config.Config, into map[string]*int, zero string) error {
	for _, key := range slices.Sorted(maps.Keys(into)) {
		v, err := IntConfig(cfg, key, 0)
		if err != nil {
			return err
		}
		if v == 0 && cfg.Get(key) != "" {
			return fmt.Errorf("%s is 0; %s", key, zero)
		}
		*into[key] = v
	}
	return nil
}

// ObjectConfig reads the structured value of key (a list or an object, set
// with `pulumi config set --path` or as JSON) into out, strictly: a field
// out does not have is an error that names it, so a misspelt key fails the
// preview instead of being ignored. A key that is not set leaves out as it is.
func ObjectConfig(cfg *config.Config, key string, out any) error {
	s := cfg.Get(key)
	if s == "" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("%s is not valid: %w", key, err)
	}
	return nil
}
