# NET-001..008: no path to or from the internet; private access to AWS APIs.
package dbvault

import rego.v1

forbidden_types := {
	"aws:ec2/internetGateway:InternetGateway": "NET-001",
	"aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway": "NET-001",
	"aws:ec2/internetGatewayAttachment:InternetGatewayAttachment": "NET-001",
	"aws:ec2/natGateway:NatGateway": "NET-002",
	"aws:ec2/eip:Eip": "NET-003",
	"aws:ec2/eipAssociation:EipAssociation": "NET-003",
}

findings contains finding(id, r, msg) if {
	some r in resources
	id := forbidden_types[r.type]
	msg := sprintf("%s %q gives the vault a path to or from the internet; fix: remove it (AWS APIs are reached through the interface endpoints)", [r.type, r.name])
}

findings contains finding("NET-004", r, msg) if {
	some r in of_type("aws:ec2/subnet:Subnet")
	inputs(r).mapPublicIpOnLaunch == true
	msg := sprintf("%s %q maps public IPs on launch; fix: set mapPublicIpOnLaunch: false (private subnets only)", [r.type, r.name])
}

open_cidrs := {"0.0.0.0/0", "::/0"}

# open_to_world(r): the CIDRs of a security group rule (of any of the three
# resource shapes AWS's provider offers) that admit any address.
open_to_world(r) := (rule_cidrs(r) | legacy_rule_cidrs(r)) | inline_rule_cidrs(r)

rule_cidrs(r) := {c |
	r.type in {"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"}
	some k in ["cidrIpv4", "cidrIpv6"]
	c := object.get(inputs(r), k, "")
	c in open_cidrs
}

legacy_rule_cidrs(r) := {c |
	r.type == "aws:ec2/securityGroupRule:SecurityGroupRule"
	some k in ["cidrBlocks", "ipv6CidrBlocks"]
	some c in object.get(inputs(r), k, [])
	c in open_cidrs
}

inline_rule_cidrs(r) := {c |
	r.type == "aws:ec2/securityGroup:SecurityGroup"
	some dir in ["ingress", "egress"]
	some rule in object.get(inputs(r), dir, [])
	some k in ["cidrBlocks", "ipv6CidrBlocks"]
	some c in object.get(rule, k, [])
	c in open_cidrs
}

sg_rule_types := {
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
	"aws:ec2/securityGroupRule:SecurityGroupRule",
	"aws:ec2/securityGroup:SecurityGroup",
}

findings contains finding("NET-005", r, msg) if {
	some r in resources
	r.type in sg_rule_types
	open := open_to_world(r)
	count(open) > 0
	msg := sprintf("%s %q is open to %v; fix: reference the peer security group (referencedSecurityGroupId) or the VPC's private subnet CIDRs", [r.type, r.name, sort(open)])
}

required_endpoints := ["secretsmanager", "kms"]

interface_endpoint(svc) if {
	some e in of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
	endswith(object.get(inputs(e), "serviceName", ""), concat("", [".", svc]))
	inputs(e).vpcEndpointType == "Interface"
	inputs(e).privateDnsEnabled == true
}

findings contains finding("NET-006", v, msg) if {
	some v in of_type("aws:ec2/vpc:Vpc")
	some svc in required_endpoints
	not interface_endpoint(svc)
	msg := sprintf("%s %q has no interface endpoint for %s with private DNS; fix: add an aws:ec2/vpcEndpoint:VpcEndpoint with serviceName com.amazonaws.<region>.%s, vpcEndpointType Interface, privateDnsEnabled true", [v.type, v.name, svc, svc])
}

# account_restricted(st): an endpoint policy statement limited to this
# account's principals, by condition or by naming the principals.
account_restricted(st) if {
	some k in condition_keys(st)
	k in {"aws:principalaccount", "aws:principalorgid", "aws:principalarn"}
}

account_restricted(st) if {
	is_object(st.Principal)
	principals := as_list(object.get(st.Principal, "AWS", null))
	count(principals) > 0
	not "*" in principals
}

findings contains finding("NET-007", e, msg) if {
	some e in of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
	inputs(e).vpcEndpointType == "Interface"
	not present(prop(e, "policy"))
	msg := sprintf("%s %q has no endpoint policy, so AWS applies full access for any principal; fix: set a policy whose statements carry aws:PrincipalAccount = this account", [e.type, e.name])
}

findings contains finding("NET-007", p.r, msg) if {
	some p in statements
	p.kind == "endpoint"
	allows(p.st)
	not account_restricted(p.st)
	msg := sprintf("%s %q has an endpoint policy statement open to principals outside this account; fix: add Condition {\"StringEquals\": {\"aws:PrincipalAccount\": \"<this account id>\"}}", [p.r.type, p.r.name])
}

findings contains finding("NET-008", v, msg) if {
	some v in of_type("aws:ec2/vpc:Vpc")
	count(of_type("aws:ec2/flowLog:FlowLog")) == 0
	msg := sprintf("%s %q has no flow log; fix: add an aws:ec2/flowLog:FlowLog to an encrypted log group with a retention", [v.type, v.name])
}
