package network

import (
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
	desc      string
}

// securityGroup creates a group with no inline rules. The provider removes
// the allow-all egress rule AWS adds to every new group, so a group starts
// closed in both directions; revokeRulesOnDelete lets groups that
// reference each other be destroyed without manual steps.
func (b builder) securityGroup(what, description string, v *ec2.Vpc) (*ec2.SecurityGroup, error) {
	name, tags := b.named(what)
	return ec2.NewSecurityGroup(b.ctx, what, &ec2.SecurityGroupArgs{
		Name:                pulumi.String(name),
		Description:         pulumi.String(description),
		VpcId:               v.ID(),
		RevokeRulesOnDelete: pulumi.Bool(true),
		Tags:                tags,
	}, b.parent)
}
