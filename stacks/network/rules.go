package network

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// rule is one security group rule: TCP on one port, to or from exactly one
// peer (a security group or a CIDR block).
type rule struct {
	name      string
	egress    bool
	group     *ec2.SecurityGroup
	port      int
	peerGroup pulumi.StringInput
	peerCidr  string
	desc      pulumi.StringInput
}

// appGroup is application security group i, checked when it is known.
func appGroup(i int, id pulumi.StringInput) pulumi.StringOutput {
	return id.ToStringOutput().ApplyT(func(s string) (string, error) {
		if !sgIDPattern.MatchString(s) {
			return "", fmt.Errorf("network: AppSecurityGroupIDs[%d] %q is not a security group ID (sg-<hex>)", i, s)
		}
		return s, nil
	}).(pulumi.StringOutput)
}

// securityGroup creates a group with no inline rules. The provider removes
// the allow-all egress rule AWS adds to every new group, so a group starts
// closed in both directions; revokeRulesOnDelete lets groups that
// reference each other be destroyed without manual steps.
func (b builder) securityGroup(what, description string, vpcID pulumi.StringInput) (*ec2.SecurityGroup, error) {
	name, tags := b.named(what)
	return ec2.NewSecurityGroup(b.ctx, b.names.Logical(what), &ec2.SecurityGroupArgs{
		Name:                pulumi.String(name),
		Description:         pulumi.String(description),
		VpcId:               vpcID,
		RevokeRulesOnDelete: pulumi.Bool(true),
		Tags:                tags,
	}, b.parent)
}
