package kit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"regexp"
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
	guard, err := loadAccountGuard(ctx)
	if err != nil {
		return Common{}, err
	}
	p, err := newProvider(ctx, ProviderName, c.Region, c.Tags, guard)
	if err != nil {
		return Common{}, err
	}
	c.Provider = p
	return c, nil
}

// The stack's provider is explicit (NewProvider), and an explicit provider
// takes only the arguments it is given: the stack's aws:* settings
// configure the default provider alone ("By default, each provider uses
// its package's global configuration settings, which are controlled by
// your stack's configuration",
// https://www.pulumi.com/docs/iac/concepts/resources/providers/; the engine
// reads them only for default providers, pulumi/pulumi
// pkg/resource/deploy/default_providers.go). So aws:region and the account
// guards are passed on, and every other aws:* setting is refused rather
// than ignored: an aws:profile ignored would deploy into whatever account
// the environment's credentials reach. Credentials and their options come
// from the environment (AWS_PROFILE, AWS_CONFIG_FILE, ...), which the
// provider and the deploy's own AWS calls both read.

// awsSettingsRefused are the aws:* settings (pulumi-aws v6's provider
// config, sdk/go/aws/config) a stack may not set.
var awsSettingsRefused = []string{
	"accessKey", "secretKey", "token", "profile", "sharedConfigFiles", "sharedCredentialsFiles",
	"assumeRole", "assumeRoleWithWebIdentity", "endpoints", "defaultTags", "ignoreTags",
	"customCaBundle", "insecure", "httpProxy", "httpsProxy", "noProxy", "maxRetries", "retryMode",
	"ec2MetadataServiceEndpoint", "ec2MetadataServiceEndpointMode", "s3UsEast1RegionalEndpoint",
	"s3UsePathStyle", "skipCredentialsValidation", "skipMetadataApiCheck", "skipRegionValidation",
	"skipRequestingAccountId", "stsRegion", "tokenBucketRateLimiterCapacity", "useDualstackEndpoint",
	"useFipsEndpoint",
}

// accountGuard is aws:allowedAccountIds and aws:forbiddenAccountIds: the
// provider refuses to work in an account the first does not list or the
// second does.
type accountGuard struct {
	Allowed, Forbidden []string
}

func loadAccountGuard(ctx *pulumi.Context) (accountGuard, error) {
	for _, k := range awsSettingsRefused {
		if _, set := ctx.GetConfig("aws:" + k); set {
			why := "set credentials and their options in the environment instead (AWS_PROFILE, AWS_CONFIG_FILE, ...), which the provider and the deploy's own AWS calls both read"
			if k == "defaultTags" {
				why = "the vault tags every resource itself (config environment, costCenter, compliance)"
			}
			return accountGuard{}, fmt.Errorf("aws:%s is set, but the stack's AWS provider does not take it: remove it (pulumi config rm aws:%s); %s", k, k, why)
		}
	}
	var g accountGuard
	aws := config.New(ctx, "aws")
	for key, into := range map[string]*[]string{"allowedAccountIds": &g.Allowed, "forbiddenAccountIds": &g.Forbidden} {
		if _, set := ctx.GetConfig("aws:" + key); !set {
			continue
		}
		// `pulumi config set --path 'aws:allowedAccountIds[0]' 111122223333`
		// stores a number (the CLI reads an untyped value as one, but keeps a
		// value with a leading zero a string: pulumi/pulumi
		// sdk/go/common/resource/config/object.go), so an ID may come as
		// either; a number must be 12 digits itself.
		var ids []any
		if err := aws.TryObject(key, &ids); err != nil {
			return accountGuard{}, fmt.Errorf("aws:%s: %w; it is a list of account IDs: pulumi config set --path 'aws:%s[0]' <account>", key, err, key)
		}
		for _, id := range ids {
			var s string
			switch v := id.(type) {
			case string:
				s = v
			case float64:
				if v == math.Trunc(v) && v >= 1e11 && v < 1e12 {
					s = strconv.FormatFloat(v, 'f', 0, 64)
				}
			}
			if !accountID.MatchString(s) {
				return accountGuard{}, fmt.Errorf("aws:%s holds %v, not a 12-digit account ID", key, id)
			}
			*into = append(*into, s)
		}
	}
	return g, nil
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

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
