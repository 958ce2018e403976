# NET-001..008: no path to or from the internet; private access to AWS APIs;
# flow logs on the VPC. NET-004 and NET-006 also cover an existing network
# (existingVpcId, below NET-004).
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

# --- existing network ---------------------------------------------------------

# The network layer can place the vault in an existing VPC (config
# existingVpcId, existingSubnetIds, and optionally
# existingSecretsManagerEndpointId / existingKmsEndpointId): it then creates
# no VPC and no subnet, only the security groups, the endpoints the config
# does not name, and a SecurityGroupAssociation of its endpoints group to each
# endpoint it does name. NET-004 and NET-006 read that config, so they do not
# pass vacuously there. The Pulumi analyzer's input carries no config
# (pulumi.rego), so these checks run on synth documents only.

# layer_config(k): the layer's config value of key k under its own project
# (<project>:k), or null.
layer_config(k) := object.get(object.get(input, "config", {}), sprintf("%s:%s", [layer_project, k]), null)

layer_project := object.get(input, "project", "")

# existing_vpc_id: the existing VPC the layer places the vault in.
existing_vpc_id := v if {
	v := layer_config("existingVpcId")
	is_string(v)
	v != ""
}

# existing_subnet_ids: config existingSubnetIds as a list (Pulumi keeps an
# object config value as its JSON text); undefined when unset or unreadable.
existing_subnet_ids := ids if {
	v := layer_config("existingSubnetIds")
	is_string(v)
	json.is_valid(v)
	ids := json.unmarshal(v)
	is_array(ids)
} else := ids if {
	ids := layer_config("existingSubnetIds")
	is_array(ids)
}

subnet_id(s) if {
	is_string(s)
	regex.match(`^subnet-[0-9a-f]{8,17}$`, s)
}

existing_subnet_msg := "the layer validates at preview that each of them is in existingVpcId, assigns no public IPs (mapPublicIpOnLaunch) and routes to no internet gateway"

findings contains finding("NET-004", r, msg) if {
	vpc := existing_vpc_id
	not existing_subnet_ids
	r := {"type": "aws:ec2/subnet:Subnet", "name": sprintf("existingSubnetIds of existing VPC %s", [vpc])}
	msg := sprintf("the layer uses existing VPC %s (existingVpcId) but config %s:existingSubnetIds is unset or not a JSON list, so the gate cannot tell which subnets the vault uses; fix: pulumi config set --path 'existingSubnetIds[0]' subnet-... for each private subnet (%s)", [vpc, layer_project, existing_subnet_msg])
}

findings contains finding("NET-004", r, msg) if {
	vpc := existing_vpc_id
	count(existing_subnet_ids) == 0
	r := {"type": "aws:ec2/subnet:Subnet", "name": sprintf("existingSubnetIds of existing VPC %s", [vpc])}
	msg := sprintf("the layer uses existing VPC %s (existingVpcId) but config %s:existingSubnetIds is empty; fix: name the VPC's private subnets there (%s)", [vpc, layer_project, existing_subnet_msg])
}

findings contains finding("NET-004", r, msg) if {
	existing_vpc_id
	some i, s in existing_subnet_ids
	not subnet_id(s)
	r := {"type": "aws:ec2/subnet:Subnet", "name": sprintf("existingSubnetIds[%d]", [i])}
	msg := sprintf("config %s:existingSubnetIds[%d] %v is not a subnet ID (subnet-<hex>), so the layer's preview check of it proves nothing; fix: name the subnet by its ID", [layer_project, i, s])
}

# The subnets the layer hands on (output privateSubnetIds, where the database
# and the rotator go) are the ones in config, which the preview check looked at.
findings contains finding("NET-004", r, msg) if {
	existing_vpc_id
	listed := {s | some s in existing_subnet_ids}
	out := object.get(object.get(input, "outputs", {}), "privateSubnetIds", null)
	is_array(out)
	some s in out
	known(s)
	not s in listed
	r := {"type": "aws:ec2/subnet:Subnet", "name": s}
	msg := sprintf("the layer's privateSubnetIds output names %s, which config %s:existingSubnetIds does not list, so no preview check looked at whether it assigns public IPs; fix: hand on exactly the subnets of existingSubnetIds (add %s there if it is a private subnet of the VPC)", [s, layer_project, s])
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
	r.type in {"aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"}
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
	# The VPC's default group, which the network layer adopts and strips
	# (pulumi-aws ec2.DefaultSecurityGroup takes inline ingress/egress).
	"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
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

# With an existing VPC (existingVpcId), each service has either an endpoint
# the layer creates with private DNS (interface_endpoint, config
# endpointPrivateDns: true), one it creates without private DNS whose own DNS
# name it hands on (exported_endpoint, the default: private DNS would send
# every workload of the VPC through the vault's endpoint), or an existing one
# named in config (endpoint_id_keys) with the vault's endpoints group
# associated to it (associated_endpoint). The layer checks at preview that a
# named endpoint is that service's, in the VPC and available; its URL output
# follows the endpoint's private DNS (on: the regional name; off: its own).
endpoint_id_keys := {"secretsmanager": "existingSecretsManagerEndpointId", "kms": "existingKmsEndpointId"}

existing_endpoint_id(svc) := id if {
	id := layer_config(endpoint_id_keys[svc])
	is_string(id)
	id != ""
}

# endpoints_group_id: the vault's endpoints group, as the layer hands it to
# the rotator (output endpointSecurityGroupId).
endpoints_group_id := g if {
	g := object.get(object.get(input, "outputs", {}), "endpointSecurityGroupId", null)
	known(g)
}

# associated_endpoint(svc): a SecurityGroupAssociation puts the vault's
# endpoints group (the layer's endpointSecurityGroupId, and a security group
# the layer creates: the association's securityGroupId comes from it, so it is
# in dependsOn) on the existing endpoint of svc named in config.
associated_endpoint(svc) if {
	id := existing_endpoint_id(svc)
	groups := {g.urn | some g in of_type("aws:ec2/securityGroup:SecurityGroup")}
	some a in of_type("aws:ec2/securityGroupAssociation:SecurityGroupAssociation")
	prop(a, "vpcEndpointId") == id
	prop(a, "securityGroupId") == endpoints_group_id
	some u in object.get(options(a), "dependsOn", [])
	u in groups
}

# endpoint_url_outputs: the output that hands on the URL a client in the VPC
# calls each service by.
endpoint_url_outputs := {"secretsmanager": "secretsManagerEndpointUrl", "kms": "kmsEndpointUrl"}

# exported_endpoint(svc): the layer creates an interface endpoint for svc
# without private DNS and hands on a URL that is not the service's regional
# name (which, without private DNS, resolves to public addresses the VPC
# cannot reach): the endpoint's own DNS name, or a value unknown until apply.
exported_endpoint(svc) if {
	some e in of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
	endswith(object.get(inputs(e), "serviceName", ""), concat("", [".", svc]))
	inputs(e).vpcEndpointType == "Interface"
	not inputs(e).privateDnsEnabled == true
	url := object.get(object.get(input, "outputs", {}), endpoint_url_outputs[svc], null)
	is_string(url)
	url != ""
	not startswith(url, sprintf("https://%s.", [svc]))
}

findings contains finding("NET-006", r, msg) if {
	vpc := existing_vpc_id
	some svc in required_endpoints
	not interface_endpoint(svc)
	not exported_endpoint(svc)
	not associated_endpoint(svc)
	r := {"type": "aws:ec2/vpc:Vpc", "name": sprintf("existing VPC %s", [vpc])}
	msg := existing_endpoint_msg(vpc, svc)
}

existing_endpoint_msg(vpc, svc) := msg if {
	id := existing_endpoint_id(svc)
	msg := sprintf("existing VPC %s: %s names the %s endpoint %s, but no aws:ec2/securityGroupAssociation:SecurityGroupAssociation associates the vault's endpoints group with it (vpcEndpointId %s, securityGroupId the layer's endpointSecurityGroupId output, from the security group the layer creates), so the rotator's rules do not reach it; fix: associate the endpoints group with it (as stacks/network/existing.go does)", [vpc, endpoint_id_keys[svc], svc, id, id])
} else := sprintf("existing VPC %s has no interface endpoint for %s the vault can reach: none named in config, none created with private DNS, and none created without it whose own DNS name the layer hands on (output %s, https://<its first dnsEntries name>); fix: set %s to the VPC's %s interface endpoint, or leave it unset and create an aws:ec2/vpcEndpoint:VpcEndpoint with serviceName com.amazonaws.<region>.%s, vpcEndpointType Interface, and export its DNS name as %s", [vpc, svc, endpoint_url_outputs[svc], endpoint_id_keys[svc], svc, svc, endpoint_url_outputs[svc]])

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

# NET-008. The gate sees one layer at a time (`go run mage.go dev:audit` and
# `pulumi preview` alike), so a flow log created in a later layer is invisible
# to the layer that creates the VPC. The rule is therefore checked on both
# sides of the hand-over that flow_log_layers (policy/catalog.rego) records:
# a VPC needs a flow log in its own layer unless its layer is listed there,
# and the listed layer must then create a flow log on a VPC (vpcId set to a
# VPC ID, as the owner's stack output gives it).

# own_flow_log: the layer creates a flow log on a VPC (its vpcId may be
# unknown at preview time when the VPC is created in the same run).
own_flow_log if {
	some f in of_type("aws:ec2/flowLog:FlowLog")
	present(prop(f, "vpcId"))
}

findings contains finding("NET-008", v, msg) if {
	some v in of_type("aws:ec2/vpc:Vpc")
	not own_flow_log
	not flow_log_layers[object.get(input, "layer", "")]
	msg := sprintf("%s %q has no flow log; fix: add an aws:ec2/flowLog:FlowLog on it (vpcId) to a KMS-encrypted log group with a retention, or, if the key for that group comes from a later layer, create the flow log there and name that layer in flow_log_layers in policy/catalog.rego", [v.type, v.name])
}

# imported_vpc_flow_log: the layer creates a flow log on an imported VPC: its
# vpcId is a known VPC ID (the owner layer's output, read through the stack
# reference), not a subnet's or an interface's.
imported_vpc_flow_log if {
	some f in of_type("aws:ec2/flowLog:FlowLog")
	id := prop(f, "vpcId")
	known(id)
	startswith(id, "vpc-")
}

findings contains finding("NET-008", r, msg) if {
	some owner, h in flow_log_layers
	h.layer == object.get(input, "layer", "")
	not imported_vpc_flow_log
	r := {"type": "aws:ec2/vpc:Vpc", "name": sprintf("%s layer's VPC (%s)", [owner, h.output])}
	msg := sprintf("layer %s must create the flow log of the %s layer's VPC (flow_log_layers in policy/catalog.rego), but it has no aws:ec2/flowLog:FlowLog whose vpcId is a VPC ID; fix: add an aws:ec2/flowLog:FlowLog with vpcId = the %s layer's %s output, trafficType ALL, into a KMS-encrypted log group with a retention", [h.layer, owner, owner, h.output])
}
