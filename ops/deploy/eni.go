package deploy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/dbvault/dbvault/stacks/kit"
)

// A rotator in a VPC leaves network interfaces that Lambda deletes some
// time after the function, with the function's execution role: "To delete
// unused network interfaces, the Lambda service uses the execution role of
// the function that created the network interface" (AWS's Lambda
// documentation, found here only as quoted in Japanese at
// https://zenn.dev/gekitenius/scraps/3c2e5f8cb9ddde, so unconfirmed); a role
// without the permission leaves them behind
// (https://github.com/aws/serverless-application-model/issues/1169). A plain
// destroy of the secrets layer deletes the function and, seconds later, its
// role, and the network layer's security group and subnets then wait on
// interfaces that may never go. So, as CloudFormation does ("When you
// delete a function, AWS CloudFormation monitors the state of its network
// interfaces and waits for Lambda to delete them before proceeding",
// AWS::Lambda::Function VpcConfig, as quoted at
// https://docs.aws.amazon.com/cdk/api/v1/docs/@aws-cdk_aws-lambda.CfnFunction.VpcConfigProperty.html),
// the secrets layer's destroy deletes the function first, waits until no
// interface holds the rotator's security group, and only then deletes the
// rest, the role among it. The wait is right whether or not Lambda needs
// the role, and takes the time the network layer's destroy would otherwise
// spend waiting.

// NetworkInterfacesAPI is the part of the EC2 client the wait calls
// (*ec2.Client has it); tests and the rehearsal answer with a fake.
type NetworkInterfacesAPI interface {
	DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
}

// TypeDestroyer is a Runner that can delete a stack's resources of one
// Pulumi type, and those that depend on them, before the rest (Auto can).
type TypeDestroyer interface {
	// DestroyType deletes them after a preview of the whole destroy (a
	// protected resource stops it before anything is deleted) and returns
	// how many it deleted: 0, and no destroy, when the stack has none.
	DestroyType(ctx context.Context, layer kit.Layer, env, typ string) (int, error)
}

const (
	// RotatorLayer is the layer of the rotator and its role; NetworkLayer
	// holds the rotator's security group.
	RotatorLayer, NetworkLayer = "secrets", "network"
	// RotatorType is the Pulumi type of the rotation function.
	RotatorType = "aws:lambda/function:Function"
	// RotatorSecurityGroupOutput is the network layer's output naming the
	// rotator's security group, which only the rotator's interfaces hold.
	RotatorSecurityGroupOutput = "rotatorSecurityGroupId"
	// DefaultENIWait is how long the destroy waits for the interfaces: the
	// Terraform AWS provider waits at least 45 minutes for Lambda's
	// ("P99 deletion time of ~35 minutes", internal/service/ec2
	// vpc_network_interface.go, deleteLingeringLambdaENIs).
	DefaultENIWait = 45 * time.Minute
	// DefaultENIPoll is how often it looks.
	DefaultENIPoll = 30 * time.Second
)

// ENIPermission is the read call of the wait.
const ENIPermission = "ec2:DescribeNetworkInterfaces"

// releaseRotator, before the secrets layer's destroy, deletes the rotator
// and waits for Lambda to release its network interfaces (see above). It
// does nothing without ENIs, for another layer, for a runner that cannot
// delete one type first, or when the network layer names no rotator
// security group.
func (o *Orchestrator) releaseRotator(ctx context.Context, l kit.Layer) error {
	td, ok := o.Runner.(TypeDestroyer)
	if o.ENIs == nil || l.Name != RotatorLayer || !ok {
		return nil
	}
	i, err := o.index(NetworkLayer)
	if err != nil {
		return nil
	}
	network := o.Layers[i]
	if ok, err := o.Runner.Exists(ctx, network, o.StackName(network)); err != nil || !ok {
		return err
	}
	outs, err := o.Runner.Outputs(ctx, network, o.StackName(network))
	if err != nil {
		return fmt.Errorf("reading the outputs of layer network (stack %s): %w", o.StackName(network), err)
	}
	sg, _ := outs[RotatorSecurityGroupOutput].Value.(string)
	if sg == "" {
		return nil
	}
	// One look first, so that a refused lookup stops the destroy before
	// anything is deleted rather than after the function is gone.
	if _, err := o.lookENIs(ctx, sg); err != nil {
		return err
	}
	n, err := td.DestroyType(ctx, l, o.StackName(l), RotatorType)
	if err != nil {
		return fmt.Errorf("deleting the rotator before the rest of the layer: %w", err)
	}
	if n > 0 {
		fmt.Fprintf(o.out(), "==> %s: deleted the rotator first (%d resources); its role stays until Lambda has released its network interfaces\n", l.Name, n)
	}
	return o.waitENIs(ctx, l, sg)
}

// lookENIs lists the network interfaces that hold security group sg,
// every page: with a filter, a page may come back short, or empty, with
// more to read (DescribeNetworkInterfaces' NextToken).
func (o *Orchestrator) lookENIs(ctx context.Context, sg string) ([]string, error) {
	pages := ec2.NewDescribeNetworkInterfacesPaginator(o.ENIs, &ec2.DescribeNetworkInterfacesInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{sg}}},
	})
	var ids []string
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx, func(opt *ec2.Options) {
			if o.Env.Region != "" {
				opt.Region = o.Env.Region
			}
		})
		if ctx.Err() != nil {
			return nil, fmt.Errorf("looking for the rotator's network interfaces (security group %s): %w", sg, ctx.Err())
		}
		if err != nil {
			return nil, fmt.Errorf("looking for the rotator's network interfaces (%s, security group %s): %w", ENIPermission, sg, err)
		}
		for _, e := range out.NetworkInterfaces {
			ids = append(ids, aws.ToString(e.NetworkInterfaceId))
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// waitENIs waits until no network interface holds security group sg.
func (o *Orchestrator) waitENIs(ctx context.Context, l kit.Layer, sg string) error {
	wait, poll := o.ENIWait, o.ENIPoll
	if wait == 0 {
		wait = DefaultENIWait
	}
	if poll == 0 {
		poll = DefaultENIPoll
	}
	start := time.Now()
	var last []string
	for {
		ids, err := o.lookENIs(ctx, sg)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			if last != nil {
				fmt.Fprintf(o.out(), "==> %s: Lambda released the rotator's network interfaces after %s\n", l.Name, time.Since(start).Round(time.Second))
			}
			return nil
		}
		if !slices.Equal(ids, last) {
			fmt.Fprintf(o.out(), "==> %s: waiting for Lambda to release the rotator's network interfaces %s (security group %s; it can take half an hour)\n", l.Name, strings.Join(ids, ", "), sg)
			last = ids
		}
		if time.Since(start) >= wait {
			return fmt.Errorf("the rotator's network interfaces %s (security group %s) are still there after %s; Lambda deletes them with the rotator's role, which this layer keeps until they are gone: run the destroy again later, which waits again", strings.Join(ids, ", "), sg, wait)
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
