package deploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/dbvault/dbvault/stacks/kit"
)

// A run stopped while AWS was creating a resource (Ctrl-C, a cancelled CI
// job, a lost runner) leaves a pending create in the stack's state: the
// resource may exist in AWS without being in the stack. The engine keeps
// such a record through every later update, since it "must require user
// intervention to be cleared or resolved" (pulumi/pulumi,
// pkg/backend/snapshot.go), and only warns; the next up then creates the
// resource again, which fails on a namesake for most types and silently
// takes it over for rules and alarms, and a destroy leaves it in AWS.
// `pulumi refresh --import-pending-creates <urn> --import-pending-creates
// <id>` (the flag takes one value each time, read in pairs) or
// `--clear-pending-creates` (every one not imported) resolves it
// (https://www.pulumi.com/docs/iac/operations/troubleshooting/interrupted-updates/;
// pkg/cmd/pulumi/operations/refresh.go). So a preview, and with it every
// up, stops on such a record, and a destroy names what it may leave.

// PendingCreate is a create that the stack's state records as begun and
// never finished.
type PendingCreate struct {
	// URN is the resource's URN; its last part is the logical name.
	URN string
	// Type is the resource type token.
	Type string
	// Name is the resource's name input, as AWS knows it ("" when it has
	// none or it is secret).
	Name string
}

// nameInputOf is the input that holds the name AWS knows a resource by,
// for the types that do not call it "name".
var nameInputOf = map[string]string{
	"aws:s3/bucketV2:BucketV2":                "bucket",
	"aws:rds/cluster:Cluster":                 "clusterIdentifier",
	"aws:rds/clusterInstance:ClusterInstance": "identifier",
	"aws:lambda/layerVersion:LayerVersion":    "layerName",
}

// Logical is the resource's logical name (the URN's last part).
func (p PendingCreate) Logical() string { return Step{URN: p.URN}.Name() }

func (p PendingCreate) String() string {
	if p.Name == "" {
		return fmt.Sprintf("%s %s (%s)", p.Type, p.Logical(), p.URN)
	}
	return fmt.Sprintf("%s %s, named %q (%s)", p.Type, p.Logical(), p.Name, p.URN)
}

// pendingCreates are the pending creates of a stack's state.
func pendingCreates(d apitype.DeploymentV3) []PendingCreate {
	var out []PendingCreate
	for _, op := range d.PendingOperations {
		if op.Type != apitype.OperationTypeCreating {
			continue
		}
		key := "name"
		if k, ok := nameInputOf[string(op.Resource.Type)]; ok {
			key = k
		}
		name, _ := op.Resource.Inputs[key].(string) // a secret is an object, not a string
		out = append(out, PendingCreate{URN: string(op.Resource.URN), Type: string(op.Resource.Type), Name: name})
	}
	return out
}

// stackPendingCreates reads the pending creates of stack s.
func stackPendingCreates(ctx context.Context, s auto.Stack) ([]PendingCreate, error) {
	d, err := StackState(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("reading stack %s for interrupted creates: %w", s.Name(), err)
	}
	return pendingCreates(d), nil
}

// InterruptedError is a layer whose stack records creates an earlier run
// began and never finished.
type InterruptedError struct {
	// Layer is the layer whose stack it is.
	Layer string
	// Stack is the stack's name.
	Stack string
	// Creates are the pending creates.
	Creates []PendingCreate
}

func (e *InterruptedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "refused: stack %s records %d create(s) that an interrupted run began and did not finish (nothing in layer %s was changed):",
		e.Stack, len(e.Creates), e.Layer)
	for _, p := range e.Creates {
		fmt.Fprintf(&b, "\n  - %s", p)
	}
	fmt.Fprintf(&b, "\nEach may exist in AWS without being in the stack. In stacks/%s, with the same backend and passphrase: "+
		"import each that exists and should stay (pulumi refresh --stack %s --import-pending-creates <URN> --import-pending-creates <ID>), delete the others, "+
		"then drop the records left (pulumi refresh --stack %s --clear-pending-creates, which drops every one not imported); then run again (docs/runbooks.md, \"An interrupted deploy\")",
		e.Layer, e.Stack, e.Stack)
	return b.String()
}

// leftBehind reports, after a layer's destroy, the pending creates that
// the destroy could not see: they may still exist in AWS. It reports
// whether there were any.
func (o *Orchestrator) leftBehind(l kit.Layer, res Result) bool {
	if len(res.Interrupted) == 0 {
		return false
	}
	fmt.Fprintf(o.out(), "==> %s: WARNING: stack %s records %d create(s) an interrupted run began; the destroy cannot see them, so they may remain in AWS:\n",
		l.Name, o.StackName(l), len(res.Interrupted))
	for _, p := range res.Interrupted {
		fmt.Fprintf(o.out(), "      - %s\n", p)
	}
	fmt.Fprintf(o.out(), "    delete each that exists, then in stacks/%s: pulumi refresh --stack %s --clear-pending-creates (docs/runbooks.md, \"An interrupted deploy\")\n",
		l.Name, o.StackName(l))
	return true
}
