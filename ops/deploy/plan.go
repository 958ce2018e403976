package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Step is one resource operation of a preview.
type Step struct {
	// URN is the resource's URN; its last part is the logical name.
	URN string
	// Type is the resource type token (aws:rds/cluster:Cluster).
	Type string
	// Op is Pulumi's operation: same, create, update, replace,
	// create-replacement, delete-replaced, delete, read, ...
	Op string
	// Named is the name a create gives a resource of NameInputs' types, as
	// AWS knows it ("" for other steps and types).
	Named string
}

// Name is the resource's logical name (the URN's last part).
func (s Step) Name() string {
	if i := strings.LastIndex(s.URN, "::"); i >= 0 {
		return s.URN[i+2:]
	}
	return s.URN
}

// StatefulTypes hold data that a replacement or deletion loses: the
// cluster and its instances, the keys, the secrets, the trail's bucket.
var StatefulTypes = []string{
	"aws:rds/cluster:Cluster",
	"aws:rds/clusterInstance:ClusterInstance",
	"aws:kms/key:Key",
	"aws:secretsmanager/secret:Secret",
	"aws:s3/bucketV2:BucketV2",
}

// destructive reports whether op loses the resource it acts on.
func destructive(op string) bool {
	switch op {
	case "replace", "create-replacement", "delete-replaced", "delete", "discard", "remove-pending-replace":
		return true
	}
	return false
}

// refused lists the destructive steps on stateful resources that allow
// (URNs or logical names) does not name.
func refused(steps []Step, allow []string) []Step {
	var out []Step
	seen := map[string]bool{}
	for _, s := range steps {
		if !destructive(s.Op) || !slices.Contains(StatefulTypes, s.Type) || seen[s.URN] {
			continue
		}
		if slices.Contains(allow, s.URN) || slices.Contains(allow, s.Name()) {
			continue
		}
		seen[s.URN] = true
		out = append(out, s)
	}
	return out
}

// ReplaceRefusedError is a plan that would replace or delete a stateful
// resource that ALLOW_REPLACE does not name.
type ReplaceRefusedError struct {
	// Layer is the layer whose plan it is.
	Layer string
	// Steps are the refused operations.
	Steps []Step
}

func (e *ReplaceRefusedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "refused: the plan of layer %s would destroy data (nothing was changed):", e.Layer)
	names := make([]string, 0, len(e.Steps))
	for _, s := range e.Steps {
		fmt.Fprintf(&b, "\n  - %s %s (%s)", s.Op, s.Name(), s.URN)
		names = append(names, s.Name())
	}
	fmt.Fprintf(&b, "\nif that is intended, name each one: ALLOW_REPLACE=%s (URNs or logical names, comma-separated; also in CI)", strings.Join(names, ","))
	return b.String()
}

// ParseAllowReplace splits ALLOW_REPLACE (comma-separated URNs or names).
func ParseAllowReplace(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// printPlan writes a layer's plan (its counts are already printed): every
// step that is not "same" or "read", and the plan as Markdown to PlanOut.
func (o *Orchestrator) printPlan(res Result) {
	w := o.out()
	for _, s := range res.Steps {
		if s.Op == "same" || s.Op == "read" {
			continue
		}
		fmt.Fprintf(w, "      %-18s %s (%s)\n", s.Op, s.Name(), s.Type)
	}
	if o.PlanOut != nil {
		fmt.Fprintf(o.PlanOut, "### Plan of %s (stack `%s`)\n\n%s\n\n", res.Layer, o.StackName(o.Layers[o.mustIndex(res.Layer)]), changeText(res.Changes))
		if steps := slices.DeleteFunc(slices.Clone(res.Steps), func(s Step) bool { return s.Op == "same" || s.Op == "read" }); len(steps) > 0 {
			fmt.Fprintln(o.PlanOut, "| operation | resource | type |\n| --- | --- | --- |")
			for _, s := range steps {
				fmt.Fprintf(o.PlanOut, "| %s | `%s` | `%s` |\n", s.Op, s.Name(), s.Type)
			}
			fmt.Fprintln(o.PlanOut)
		}
	}
}

func (o *Orchestrator) mustIndex(name string) int {
	i, _ := o.index(name)
	return max(i, 0)
}

// plan previews layer i, prints its plan and refuses destructive steps on
// stateful resources that AllowReplace does not name (preview has refused
// creates that would take over a resource of the account).
func (o *Orchestrator) plan(ctx context.Context, i int) (Result, error) {
	res, err := o.preview(ctx, i)
	if err != nil {
		return res, err
	}
	if bad := refused(res.Steps, o.AllowReplace); len(bad) > 0 {
		return res, &ReplaceRefusedError{Layer: res.Layer, Steps: bad}
	}
	return res, nil
}

// approve asks once whether to apply the plans shown (nothing to ask when
// none changes anything and every plan could be computed).
func (o *Orchestrator) approve(ctx context.Context, plans []Result, pending []string) error {
	changed := len(pending) > 0
	for _, p := range plans {
		changed = changed || p.Changed() > 0
	}
	if !changed {
		return nil
	}
	if o.Confirm == nil {
		return errors.New("deploying needs confirmation: run it on a terminal, or set CONFIRM=yes (or CI=true) after reading the plan above")
	}
	prompt := fmt.Sprintf("Apply the plan above to environment %q (region %s)?", o.Env.Name, o.Env.Region)
	if len(pending) > 0 {
		prompt += fmt.Sprintf(" The plans of %s are computed once the layers before them are up; each is shown, and refused if it would destroy data, before it runs.", strings.Join(pending, ", "))
	}
	ok, err := o.Confirm(ctx, prompt)
	if err != nil {
		return fmt.Errorf("confirmation: %w", err)
	}
	if !ok {
		return errors.New("deploy cancelled: nothing was changed")
	}
	return nil
}
