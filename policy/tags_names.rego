# TAG-001 and NAME-001: compliance tags and physical names.
package dbvault

import rego.v1

required_tags := ["Environment", "CostCenter", "Compliance"]

taggable(r) if r.type in taggable_types

taggable(r) if "tags" in object.keys(inputs(r))

findings contains finding("TAG-001", r, msg) if {
	some r in resources
	taggable(r)
	missing := [k | some k in required_tags; not known_tag(r, k)]
	count(missing) > 0
	msg := sprintf("%s %q lacks non-empty tags %v; fix: create it through the stack's AWS provider (kit.Common.AWS(), whose defaultTags carry them), and set the environment, costCenter and compliance config values", [r.type, r.name, missing])
}

# TAG-002: the compliance tags come from the provider's defaultTags only. A
# resource's own tag of the same key would win over the default (see tags in
# lib.rego), so one resource could leave the environment's cost centre or
# compliance scope unnoticed.
findings contains finding("TAG-002", r, msg) if {
	some r in resources
	not r.type in no_default_tags_types
	own := [k | some k in required_tags; k in object.keys(own_tags(r))]
	count(own) > 0
	msg := sprintf("%s %q sets its own %v tag(s), which override the provider's defaultTags; fix: drop them from the resource's tags (kit.Common's provider carries the compliance tags)", [r.type, r.name, own])
}

known_tag(r, k) if {
	v := tag_value(r, k)
	is_string(v)
	trim_space(v) != ""
}

# name_keys: where each type keeps its physical name. Types not listed use
# `name`; EC2 network types have no name of their own, only the Name tag.
name_keys := {
	"aws:rds/cluster:Cluster": "clusterIdentifier",
	"aws:rds/clusterInstance:ClusterInstance": "identifier",
	"aws:rds/instance:Instance": "identifier",
	"aws:s3/bucket:Bucket": "bucket",
	"aws:s3/bucketV2:BucketV2": "bucket",
}

name_tag_types := {
	"aws:ec2/vpc:Vpc",
	"aws:ec2/subnet:Subnet",
	"aws:ec2/routeTable:RouteTable",
	"aws:ec2/vpcEndpoint:VpcEndpoint",
	"aws:ec2/networkAcl:NetworkAcl",
	"aws:ec2/internetGateway:InternetGateway",
	"aws:ec2/natGateway:NatGateway",
	"aws:ec2/eip:Eip",
	"aws:ec2/instance:Instance",
	"aws:ec2/flowLog:FlowLog",
}

# named_types: types whose physical name must be set explicitly; without it
# Pulumi makes one from the logical name plus random characters, which does
# not carry the suffix reliably.
named_types := {
	"aws:rds/cluster:Cluster",
	"aws:rds/clusterInstance:ClusterInstance",
	"aws:rds/instance:Instance",
	"aws:rds/subnetGroup:SubnetGroup",
	"aws:rds/clusterParameterGroup:ClusterParameterGroup",
	"aws:rds/parameterGroup:ParameterGroup",
	"aws:s3/bucket:Bucket",
	"aws:s3/bucketV2:BucketV2",
	"aws:lambda/function:Function",
	"aws:iam/role:Role",
	"aws:iam/policy:Policy",
	"aws:cloudwatch/logGroup:LogGroup",
	"aws:cloudwatch/metricAlarm:MetricAlarm",
	"aws:cloudwatch/eventRule:EventRule",
	"aws:secretsmanager/secret:Secret",
	"aws:ec2/securityGroup:SecurityGroup",
	"aws:kms/alias:Alias",
	"aws:sns/topic:Topic",
	"aws:cloudtrail/trail:Trail",
} | name_tag_types

name_key(r) := name_keys[r.type]

name_key(r) := "tags.Name" if r.type in name_tag_types

name_key(r) := "name" if {
	not name_keys[r.type]
	not r.type in name_tag_types
}

physical_name(r) := inputs(r)[name_keys[r.type]]

physical_name(r) := tag_value(r, "Name") if r.type in name_tag_types

physical_name(r) := inputs(r).name if {
	not name_keys[r.type]
	not r.type in name_tag_types
}

carries_suffix(n) if endswith(n, concat("", ["-", suffix]))

carries_suffix(n) if {
	some e in name_exceptions
	regex.match(sprintf(e.pattern, [suffix]), n)
}

findings contains finding("NAME-001", r, msg) if {
	some r in resources
	n := physical_name(r)
	is_string(n)
	known(n)
	not carries_suffix(n)
	msg := sprintf("%s %q has the physical name %q (%s), which does not end in -%s; fix: name it with kit.Name(<resource-type>, environmentSuffix), or add a documented exception to name_exceptions in policy/catalog.rego", [r.type, r.name, n, name_key(r), suffix])
}

findings contains finding("NAME-001", r, msg) if {
	some r in resources
	r.type in named_types
	not known_name(r)
	msg := sprintf("%s %q sets no physical name (%s), so Pulumi would invent one without the suffix; fix: set %s to kit.Name(<resource-type>, environmentSuffix)", [r.type, r.name, name_key(r), name_key(r)])
}

known_name(r) if present(physical_name(r))
