package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/secrets"
)

// CloudTrailAPI is the part of the CloudTrail client the trail lookup
// calls (*cloudtrail.Client has it); tests answer with a fake.
type CloudTrailAPI interface {
	DescribeTrails(ctx context.Context, in *cloudtrail.DescribeTrailsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error)
	GetTrailStatus(ctx context.Context, in *cloudtrail.GetTrailStatusInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
	GetEventSelectors(ctx context.Context, in *cloudtrail.GetEventSelectorsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error)
}

// The config keys of the secrets layer this file reads and seeds.
const (
	// ExistingTrailKey names a trail the secrets layer uses instead of
	// creating its own.
	ExistingTrailKey = "existingTrailName"
	// CreateTrailKey (true) asks for a trail of the environment's own;
	// the layer itself does not read it, only this lookup does.
	CreateTrailKey = "createTrail"
	// TrailLayer is the layer whose trail this is about.
	TrailLayer = "secrets"
)

// TrailPermissions are the read calls the lookup makes.
var TrailPermissions = []string{"cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"}

// trailChoice is the outcome of one lookup: the ARN to use ("" = none).
type trailChoice struct{ arn string }

// TrailRefusedError is a lookup that AWS refused.
type TrailRefusedError struct {
	// Permission is the IAM action of the refused call.
	Permission string
	// Stack is the secrets layer's stack, for the commands that decide
	// without a lookup.
	Stack string
	Err   error
}

func (e *TrailRefusedError) Error() string {
	return fmt.Sprintf("looking up the account's CloudTrail trails was refused (%s): %v\n"+
		"the secrets layer uses a trail of the account that already records management events rather than a sixth trail (CloudTrail allows 5 per region). Either grant the deploying principal %s, "+
		"or decide without the lookup: (cd stacks/secrets && pulumi config set %s <trail name or ARN> --stack %s) to use a trail, or (cd stacks/secrets && pulumi config set %s true --stack %s) to create one for this environment",
		e.Permission, e.Err, strings.Join(TrailPermissions, ", "), ExistingTrailKey, e.Stack, CreateTrailKey, e.Stack)
}

func (e *TrailRefusedError) Unwrap() error { return e.Err }

// refusal reports whether err is AWS refusing the caller.
func refusal(err error) bool {
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) {
		c := coded.ErrorCode()
		return strings.Contains(c, "AccessDenied") || c == "UnauthorizedOperation" || c == "NotAuthorized"
	}
	return false
}

// trailSeed, before the secrets layer runs, seeds existingTrailName with
// the account's trail when the stack names none and the operator did not
// ask for a trail of its own (createTrail=true). A deployed layer keeps the
// trail it has, since switching would replace it: its own trail needs no
// seed (the layer creates one when existingTrailName is empty), and the
// account's trail it uses is seeded again from its trailArn output, because
// the stack's config may no longer name it (the key removed by hand; a
// missing config file is refused before this, configPresent), and without
// the seed the layer would add a trail of its own. Otherwise the
// account's trails are looked up, once per operation; the outcome is
// printed.
func (o *Orchestrator) trailSeed(ctx context.Context, l kit.Layer, have map[string]string, cfg Config) error {
	if o.Trails == nil || l.Name != TrailLayer {
		return nil
	}
	existing, create := l.Project+":"+ExistingTrailKey, l.Project+":"+CreateTrailKey
	if have[existing] != "" || strings.EqualFold(have[create], "true") {
		return nil
	}
	if o.trail == nil && have != nil {
		outs, err := o.Runner.Outputs(ctx, l, o.StackName(l))
		if err != nil {
			return fmt.Errorf("reading the outputs of layer %s (stack %s): %w", l.Name, o.StackName(l), err)
		}
		if arn, _ := outs["trailArn"].Value.(string); arn != "" {
			o.trail = &trailChoice{}
			if !o.ownTrail(arn, have[l.Project+":environmentSuffix"]) {
				o.trail.arn = arn
				o.trailNote(l, fmt.Sprintf("keeping the account's trail %s, which the deployed layer uses", arn))
			}
		}
	}
	if o.trail == nil {
		arn, err := o.findTrail(ctx, l)
		if err != nil {
			return err
		}
		o.trail = &trailChoice{arn: arn}
		set := fmt.Sprintf("(cd stacks/%s && pulumi config set %s true --stack %s)", l.Name, CreateTrailKey, o.StackName(l))
		if arn != "" {
			o.trailNote(l, fmt.Sprintf("using the account's trail %s (set %s true to create one: %s)", arn, CreateTrailKey, set))
		} else {
			o.trailNote(l, fmt.Sprintf("no trail of the account records its management events (read and write) in %s: the layer creates its own (CloudTrail allows 5 trails per region)", o.Env.Region))
		}
	}
	if o.trail.arn != "" {
		cfg[existing] = ConfigValue{Value: o.trail.arn}
	}
	return nil
}

// trailNote prints which trail the layer uses, and adds it to the plan.
func (o *Orchestrator) trailNote(l kit.Layer, note string) {
	fmt.Fprintf(o.out(), "==> %s: %s\n", l.Name, note)
	if o.PlanOut != nil {
		fmt.Fprintf(o.PlanOut, "**%s**: %s\n\n", l.Name, note)
	}
}

// ownTrail reports whether arn is the trail the secrets layer creates for
// itself (kit.Names.TrailName in the environment's suffix, the stack's
// environmentSuffix when it has one). Its name alone decides: a trail of
// the account by that name would have kept the layer from creating its own.
func (o *Orchestrator) ownTrail(arn, suffix string) bool {
	if suffix == "" {
		suffix = o.Env.Name
	}
	_, name, _ := strings.Cut(arn, ":trail/")
	return name == kit.DefaultNames(suffix).TrailName()
}

// findTrail returns the ARN of a trail that applies to the environment's
// region, is logging, and records every management event, read and write
// (of Secrets Manager among them); "" when there is none.
func (o *Orchestrator) findTrail(ctx context.Context, l kit.Layer) (string, error) {
	region := func(opt *cloudtrail.Options) {
		if o.Env.Region != "" {
			opt.Region = o.Env.Region
		}
	}
	refused := func(perm string, err error) error {
		if refusal(err) {
			return &TrailRefusedError{Permission: perm, Stack: o.StackName(l), Err: err}
		}
		return fmt.Errorf("looking up the account's CloudTrail trails (%s): %w", perm, err)
	}
	list, err := o.Trails.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)}, region)
	if err != nil {
		return "", refused("cloudtrail:DescribeTrails", err)
	}
	trails := slices.Clone(list.TrailList)
	// The region's own trails first, then those of other home regions
	// (multi-region and organisation trails), each by name.
	slices.SortStableFunc(trails, func(a, b types.Trail) int {
		ha, hb := aws.ToString(a.HomeRegion) == o.Env.Region, aws.ToString(b.HomeRegion) == o.Env.Region
		switch {
		case ha && !hb:
			return -1
		case hb && !ha:
			return 1
		}
		return strings.Compare(aws.ToString(a.Name), aws.ToString(b.Name))
	})
	for _, t := range trails {
		arn := aws.ToString(t.TrailARN)
		if arn == "" || vaultTrail(t) {
			continue
		}
		st, err := o.Trails.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)}, region)
		if err != nil {
			return "", refused("cloudtrail:GetTrailStatus", err)
		}
		if !aws.ToBool(st.IsLogging) {
			continue
		}
		sel, err := o.Trails.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(arn)}, region)
		if err != nil {
			return "", refused("cloudtrail:GetEventSelectors", err)
		}
		if RecordsManagementEvents(sel) {
			return arn, nil
		}
	}
	return "", nil
}

// vaultTrail reports whether t is a trail that a secrets layer created for
// its own environment: named [<vault>-]trail-<suffix> and delivering to the
// bucket kit.Names.TrailBucketName gives for that name, its home region and
// its account. Such a trail goes when its environment is destroyed, so
// another environment does not take it for the account's.
func vaultTrail(t types.Trail) bool {
	name := aws.ToString(t.Name)
	i := strings.LastIndex(name, "trail-")
	parts := strings.Split(aws.ToString(t.TrailARN), ":")
	if i < 0 || len(parts) != 6 {
		return false
	}
	n := kit.Names{Prefix: name[:i], Suffix: name[i+len("trail-"):]}
	return aws.ToString(t.S3BucketName) == n.TrailBucketName(aws.ToString(t.HomeRegion), parts[4])
}

// RecordsManagementEvents reports whether a trail's selectors record every
// management event, read and write, of each service whose calls the
// vault's rules match (secrets.WatchedEventSources): basic selectors with
// IncludeManagementEvents that exclude none of those sources, or advanced
// ones on eventCategory Management whose eventSource filters keep all of
// them; read and write may come from different selectors (ReadWriteType
// ReadOnly beside WriteOnly, or readOnly true beside false), since an event
// is logged when it matches any selector (EventSelector,
// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_EventSelector.html;
// the secrets layer's own trail splits reads from writes that way). An
// answer without selectors proves nothing and is not taken.
func RecordsManagementEvents(sel *cloudtrail.GetEventSelectorsOutput) bool {
	if sel == nil {
		return false
	}
	watched := secrets.WatchedEventSources
	var reads, writes bool
	for _, s := range sel.EventSelectors {
		if !aws.ToBool(s.IncludeManagementEvents) || slices.ContainsFunc(watched, func(src string) bool { return slices.Contains(s.ExcludeManagementEventSources, src) }) {
			continue
		}
		switch s.ReadWriteType {
		case types.ReadWriteTypeAll:
			reads, writes = true, true
		case types.ReadWriteTypeReadOnly:
			reads = true
		case types.ReadWriteTypeWriteOnly:
			writes = true
		}
	}
	for _, a := range sel.AdvancedEventSelectors {
		management, narrowed := false, false
		r, w := true, true
		for _, f := range a.FieldSelectors {
			switch aws.ToString(f.Field) {
			case "eventCategory":
				management = slices.Contains(f.Equals, "Management")
			case "readOnly":
				if len(f.Equals) != 1 || len(f.NotEquals) > 0 {
					narrowed = true
				}
				r, w = slices.Contains(f.Equals, "true"), slices.Contains(f.Equals, "false")
			case "eventSource":
				keeps := func(src string) bool {
					return (len(f.Equals) == 0 || slices.Contains(f.Equals, src)) && !slices.Contains(f.NotEquals, src)
				}
				if slices.ContainsFunc(watched, func(src string) bool { return !keeps(src) }) || len(f.StartsWith) > 0 || len(f.EndsWith) > 0 || len(f.NotStartsWith) > 0 || len(f.NotEndsWith) > 0 {
					narrowed = true
				}
			default:
				narrowed = true
			}
		}
		if management && !narrowed {
			reads, writes = reads || r, writes || w
		}
	}
	return reads && writes
}
