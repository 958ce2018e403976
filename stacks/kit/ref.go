package kit

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Ref is a StackReference to the stack of an earlier layer, with accessors
// that fail with the stack's and the output's name when an output the layer
// needs is missing or has the wrong shape, instead of passing an empty
// string on to AWS.
type Ref struct {
	// Stack is the fully qualified name of the referenced stack.
	Stack string
	ref   *pulumi.StackReference
}

// NewRef references the stack named by config key (e.g. networkStack), by
// default organization/<project>/<this stack> (see StackName).
func NewRef(ctx *pulumi.Context, key, project string, opts ...pulumi.ResourceOption) (*Ref, error) {
	name := StackName(ctx, key, project)
	ref, err := pulumi.NewStackReference(ctx, key, &pulumi.StackReferenceArgs{Name: pulumi.String(name)}, opts...)
	if err != nil {
		return nil, fmt.Errorf("stack reference %s: %w", name, err)
	}
	return &Ref{Stack: name, ref: ref}, nil
}

// String returns the output name of the referenced stack, which must be a
// non-empty string. Secretness carries over.
func (r *Ref) String(name string) pulumi.StringOutput {
	return r.ref.GetOutput(pulumi.String(name)).ApplyT(func(v any) (string, error) {
		s, ok := v.(string)
		if !ok || s == "" {
			return "", fmt.Errorf("stack %s has no output %s (a non-empty string); deploy that layer first", r.Stack, name)
		}
		return s, nil
	}).(pulumi.StringOutput)
}

// OptionalString returns the output name of the referenced stack, a string
// that may be absent: a stack deployed before the output existed gives "",
// for the caller to read as its documented default. Any other shape fails.
func (r *Ref) OptionalString(name string) pulumi.StringOutput {
	return r.ref.GetOutput(pulumi.String(name)).ApplyT(func(v any) (string, error) {
		switch s := v.(type) {
		case nil:
			return "", nil
		case string:
			return s, nil
		}
		return "", fmt.Errorf("stack %s has output %s of type %T, not a string; deploy that layer again", r.Stack, name, v)
	}).(pulumi.StringOutput)
}

// Strings returns the output name of the referenced stack, which must be a
// non-empty list of non-empty strings.
func (r *Ref) Strings(name string) pulumi.StringArrayOutput {
	return r.ref.GetOutput(pulumi.String(name)).ApplyT(func(v any) ([]string, error) {
		fail := fmt.Errorf("stack %s has no output %s (a non-empty list of strings); deploy that layer first", r.Stack, name)
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return nil, fail
		}
		out := make([]string, len(list))
		for i, e := range list {
			s, ok := e.(string)
			if !ok || s == "" {
				return nil, fail
			}
			out[i] = s
		}
		return out, nil
	}).(pulumi.StringArrayOutput)
}

// Int returns the output name of the referenced stack, which must be a whole
// number (stack outputs carry numbers as float64).
func (r *Ref) Int(name string) pulumi.IntOutput {
	return r.ref.GetOutput(pulumi.String(name)).ApplyT(func(v any) (int, error) {
		switch n := v.(type) {
		case float64:
			if n == float64(int(n)) {
				return int(n), nil
			}
		case int:
			return n, nil
		}
		return 0, fmt.Errorf("stack %s has no output %s (a whole number); deploy that layer first", r.Stack, name)
	}).(pulumi.IntOutput)
}

// OptionalBool returns the output name of the referenced stack as a plain
// value, for a choice of which resources to create: it waits for the
// output (known at preview, since the referenced stack is deployed). A
// stack deployed before the output existed gives false; any other shape
// fails.
func (r *Ref) OptionalBool(name string) (bool, error) {
	d, err := r.ref.GetOutputDetails(name)
	if err != nil {
		return false, fmt.Errorf("stack %s, output %s: %w", r.Stack, name, err)
	}
	v := d.Value
	if v == nil {
		v = d.SecretValue
	}
	switch b := v.(type) {
	case nil:
		return false, nil
	case bool:
		return b, nil
	}
	return false, fmt.Errorf("stack %s has output %s of type %T, not a boolean; deploy that layer again", r.Stack, name, v)
}
