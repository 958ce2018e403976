package rehearse

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/dbvault/dbvault/ops/deploy"
)

// lookedUpNames stands in for EventBridge's DescribeRule and CloudWatch's
// DescribeAlarms in the deploy's name lookup (ops/deploy plan.go): every
// name is free, and each one asked for is kept, so that checkNames can
// tell whether the real engine's plans brought every create to the lookup.
type lookedUpNames struct {
	mu    sync.Mutex
	names []string
}

func (n *lookedUpNames) add(names ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.names = append(n.names, names...)
}

func (n *lookedUpNames) DescribeRule(_ context.Context, in *eventbridge.DescribeRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error) {
	n.add(aws.ToString(in.Name))
	return nil, &ebtypes.ResourceNotFoundException{Message: aws.String("Rule " + aws.ToString(in.Name) + " does not exist.")}
}

func (n *lookedUpNames) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	n.add(in.AlarmNames...)
	return &cloudwatch.DescribeAlarmsOutput{}, nil
}

// checkNames: every resource of the types whose create overwrites a
// namesake (deploy.NameInputs) that deployAll #1 created had its name
// looked up first.
func (r *rehearsal) checkNames(states map[string]apitype.DeploymentV3) {
	r.names.mu.Lock()
	defer r.names.mu.Unlock()
	n := 0
	for layer, st := range states {
		for _, res := range st.Resources {
			key, ok := deploy.NameInputs[string(res.Type)]
			if !ok {
				continue
			}
			n++
			name, _ := InputAt(res.Inputs, key).(string)
			if name == "" || !slices.Contains(r.names.names, name) {
				r.report.fail("layer %s created %s %q without looking its name up first (looked up: %v)", layer, res.Type, name, r.names.names)
			}
		}
	}
	fmt.Fprintf(r.out, "rehearse: %d rule and alarm name(s) looked up before their creation\n", n)
}
