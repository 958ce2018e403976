package kit

import (
	"fmt"
	"maps"
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Tags are the compliance tags that every taggable resource carries.
type Tags struct {
	Environment string
	CostCenter  string
	Compliance  string
}

// Map returns the tags under the keys AWS resources carry them.
func (t Tags) Map() map[string]string {
	return map[string]string{
		"Environment": t.Environment,
		"CostCenter":  t.CostCenter,
		"Compliance":  t.Compliance,
	}
}

// Validate refuses an empty tag value: a resource tagged with "" is as
// untraceable as one without the tag.
func (t Tags) Validate() error {
	for k, v := range t.Map() {
		if v == "" {
			return fmt.Errorf("tag %s must not be empty", k)
		}
	}
	return nil
}

var stringMapInputType = reflect.TypeFor[pulumi.StringMapInput]()

// ApplyTags registers a stack transformation that puts the compliance tags on
// every resource the stack registers whose arguments have a Tags field (which
// is exactly the set the AWS provider can tag). Doing it here, once, means no
// resource can be missed, and the tags sit on each resource's own `tags`
// input where tests, synth and policy see them. Tags a resource sets itself
// (such as Name) are kept; the compliance keys always win.
//
// It uses the in-process transformation, not the engine-side transform, so
// that it applies identically under the SDK's mocks.
func ApplyTags(ctx *pulumi.Context, t Tags) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return ctx.RegisterStackTransformation(func(args *pulumi.ResourceTransformationArgs) *pulumi.ResourceTransformationResult {
		props, ok := withTags(args.Props, t.Map())
		if !ok {
			return nil
		}
		return &pulumi.ResourceTransformationResult{Props: props, Opts: args.Opts}
	})
}

// withTags returns a copy of props (a pointer to a resource's Args struct)
// with tags merged into its Tags field, or false when it has no such field.
func withTags(props pulumi.Input, tags map[string]string) (pulumi.Input, bool) {
	v := reflect.ValueOf(props)
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil, false
	}
	field := v.Elem().FieldByName("Tags")
	if !field.IsValid() || field.Type() != stringMapInputType {
		return nil, false
	}
	copied := reflect.New(v.Elem().Type())
	copied.Elem().Set(v.Elem())
	var merged pulumi.StringMapInput = pulumi.ToStringMap(tags)
	if existing, ok := field.Interface().(pulumi.StringMapInput); ok && existing != nil {
		merged = existing.ToStringMapOutput().ApplyT(func(own map[string]string) map[string]string {
			out := maps.Clone(own)
			if out == nil {
				out = map[string]string{}
			}
			maps.Copy(out, tags)
			return out
		}).(pulumi.StringMapOutput)
	}
	copied.Elem().FieldByName("Tags").Set(reflect.ValueOf(merged))
	return copied.Interface().(pulumi.Input), true
}
