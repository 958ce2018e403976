# RDS-001..011: the Aurora cluster, its instances, its parameter group and
# its master password (which RDS owns).
package dbvault

import rego.v1

clusters := of_type("aws:rds/cluster:Cluster")

findings contains finding("RDS-001", r, msg) if {
	some r in clusters
	not customer_key_encrypted(inputs(r))
	msg := sprintf("%s %q is not storage-encrypted with a customer key (storageEncrypted = %v, kmsKeyId = %v); fix: set storageEncrypted: true and kmsKeyId to the database key's ARN", [r.type, r.name, object.get(inputs(r), "storageEncrypted", null), object.get(inputs(r), "kmsKeyId", null)])
}

customer_key_encrypted(i) if {
	i.storageEncrypted == true
	present(i.kmsKeyId)
	not contains(lower(i.kmsKeyId), "alias/aws/")
}

findings contains finding("RDS-002", r, msg) if {
	some r in resources
	# A cluster has no such input (pulumi-aws sdk/v6 rds/cluster.go): its
	# instances carry it.
	r.type in {"aws:rds/clusterInstance:ClusterInstance", "aws:rds/instance:Instance"}
	inputs(r).publiclyAccessible == true
	msg := sprintf("%s %q is publicly accessible; fix: set publiclyAccessible: false", [r.type, r.name])
}

# RDS-003 and RDS-004 apply to ephemeral layers only (their catalog class);
# PRD-002 (production.rego) asks the opposite of production clusters.
findings contains finding("RDS-003", r, msg) if {
	some r in resources
	r.type in {"aws:rds/cluster:Cluster", "aws:rds/instance:Instance"}
	not prop(r, "skipFinalSnapshot") == true
	msg := sprintf("%s %q would take a final snapshot on delete; fix: set skipFinalSnapshot: true so the environment is destroyable", [r.type, r.name])
}

findings contains finding("RDS-004", r, msg) if {
	some r in resources
	r.type in {"aws:rds/cluster:Cluster", "aws:rds/instance:Instance"}
	inputs(r).deletionProtection == true
	msg := sprintf("%s %q has deletion protection on; fix: set deletionProtection: false so the environment is destroyable", [r.type, r.name])
}

# parameter_group(c): the cluster parameter group the cluster uses, found by name.
parameter_group(c) := pg if {
	some pg in of_type("aws:rds/clusterParameterGroup:ClusterParameterGroup")
	inputs(pg).name == inputs(c).dbClusterParameterGroupName
}

# parameter(c, name): the value the cluster's parameter group sets for name.
parameter(c, name) := p.value if {
	pg := parameter_group(c)
	some p in object.get(inputs(pg), "parameters", [])
	lower(p.name) == name
}

findings contains finding("RDS-005", c, msg) if {
	some c in clusters
	not secure_transport(c)
	msg := sprintf("%s %q does not require TLS: its cluster parameter group (%v) does not set require_secure_transport=ON; fix: create a ClusterParameterGroup with {name: require_secure_transport, value: ON} and set dbClusterParameterGroupName to it", [c.type, c.name, object.get(inputs(c), "dbClusterParameterGroupName", "none")])
}

secure_transport(c) if upper(format_int_or_string(parameter(c, "require_secure_transport"))) in {"ON", "1"}

format_int_or_string(v) := v if is_string(v)

format_int_or_string(v) := format_int(v, 10) if is_number(v)

findings contains finding("RDS-007", c, msg) if {
	some c in clusters
	not tls12_floor(c)
	msg := sprintf("%s %q does not limit tls_version to TLS 1.2 or later in its cluster parameter group; fix: set the parameter tls_version to TLSv1.2 (or TLSv1.2,TLSv1.3)", [c.type, c.name])
}

tls12_floor(c) if {
	v := parameter(c, "tls_version")
	is_string(v)
	versions := {trim_space(x) | some x in split(v, ",")}
	count(versions) > 0
	every x in versions {
		x in {"TLSv1.2", "TLSv1.3"}
	}
}

instances := of_type("aws:rds/clusterInstance:ClusterInstance")

belongs(i, c) if inputs(i).clusterIdentifier == inputs(c).clusterIdentifier

# At preview time the instance's clusterIdentifier may be unknown; with one
# cluster in the layer, every instance is that cluster's.
belongs(i, _) if {
	count(clusters) == 1
	not known(prop(i, "clusterIdentifier"))
}

findings contains finding("RDS-006", c, msg) if {
	some c in clusters
	members := [i | some i in instances; belongs(i, c)]
	zones := {z | some i in members; z := inputs(i).availabilityZone; known(z)}
	not ha(members, zones)
	msg := sprintf("%s %q has %d instance(s) in %d named availability zone(s); fix: register at least two ClusterInstances with availabilityZone set to different zones", [c.type, c.name, count(members), count(zones)])
}

ha(members, zones) if {
	count(members) >= 2
	count(zones) >= 2
}

findings contains finding("RDS-008", c, msg) if {
	some c in clusters
	not backups_week(inputs(c))
	msg := sprintf("%s %q keeps backups %v day(s); fix: set backupRetentionPeriod to 7 or more", [c.type, c.name, object.get(inputs(c), "backupRetentionPeriod", 1)])
}

backups_week(i) if i.backupRetentionPeriod >= 7

findings contains finding("RDS-009", c, msg) if {
	some c in clusters
	missing := {"audit", "error", "slowquery"} - {x | some x in object.get(inputs(c), "enabledCloudwatchLogsExports", [])}
	count(missing) > 0
	msg := sprintf("%s %q does not export %v to CloudWatch Logs; fix: add them to enabledCloudwatchLogsExports (and create their log groups first, encrypted)", [c.type, c.name, sort(missing)])
}

# The audit export holds nothing unless the cluster parameter group turns
# Advanced Auditing on and names the events
# (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Auditing.html):
# server_audit_logging on, and server_audit_events with CONNECT and
# QUERY_DCL (or QUERY, every statement) at least: who connected, who was
# granted what. "Events must be specified in all caps, and there should be
# no white space between the list elements", so they are compared as
# written.
findings contains finding("RDS-009", c, msg) if {
	some c in clusters
	not audit_events_logged(c)
	msg := sprintf("%s %q exports no audit events: its cluster parameter group does not set server_audit_logging=1 with server_audit_events holding CONNECT and QUERY_DCL; fix: set both in the ClusterParameterGroup", [c.type, c.name])
}

audit_events_logged(c) if {
	upper(format_int_or_string(parameter(c, "server_audit_logging"))) in {"1", "ON"}
	v := parameter(c, "server_audit_events")
	is_string(v)
	events := {x | some x in split(v, ",")}
	"CONNECT" in events
	queries_logged(events)
}

queries_logged(events) if "QUERY_DCL" in events

queries_logged(events) if "QUERY" in events

# RDS-010: the master password never passes through code, config or state:
# RDS generates it and keeps it in its managed secret (RDS-011). The
# inputs that carry it: a cluster's masterPassword, an instance's password
# (pulumi-aws sdk/v6 rds/cluster.go, rds/instance.go). Their write-only
# forms (masterPasswordWo, passwordWo, in later provider versions) keep it
# out of the state, not out of the program and its config, so they are
# refused too.
password_inputs := {
	"aws:rds/cluster:Cluster": ["masterPassword", "masterPasswordWo"],
	"aws:rds/instance:Instance": ["password", "passwordWo"],
}

findings contains finding("RDS-010", r, msg) if {
	some r in resources
	some k in password_inputs[r.type]
	present(prop(r, k))
	msg := sprintf("%s %q sets %s: the master password passes through the program, its config and (but for the write-only input) the state; fix: remove %s and set manageMasterUserPassword: true with masterUserSecretKmsKeyId = the secrets key, so RDS generates, stores and rotates it", [r.type, r.name, k, k])
}

# RDS-011: RDS owns the master password (manageMasterUserPassword), in a
# secret encrypted with our key, not the aws/secretsmanager key.
findings contains finding("RDS-011", c, msg) if {
	some c in clusters
	not rds_owns_master_password(c)
	msg := sprintf("%s %q does not let RDS own its master password under a customer key (manageMasterUserPassword = %v, masterUserSecretKmsKeyId = %v); fix: set manageMasterUserPassword: true and masterUserSecretKmsKeyId to the secrets key's ARN", [c.type, c.name, prop(c, "manageMasterUserPassword"), prop(c, "masterUserSecretKmsKeyId")])
}

rds_owns_master_password(c) if {
	manages_master_password(c)
	customer_key(prop(c, "masterUserSecretKmsKeyId"))
}

# RDS-012: on a cluster the team already runs (the database layer's
# existingClusterIdentifier), the layer changes nothing but the rotator's
# access: no RDS resource, no log group of RDS's, no rotation schedule of
# the team's master secret, and security group rules only between groups,
# on one TCP port each (stacks/database/existing.go).
existing_cluster_id := v if {
	v := object.get(object.get(input, "config", {}), sprintf("%s:existingClusterIdentifier", [object.get(input, "project", "")]), null)
	is_string(v)
	v != ""
}

findings contains finding("RDS-012", r, msg) if {
	id := existing_cluster_id
	some r in resources
	startswith(r.type, "aws:rds/")
	msg := sprintf("%s %q is created although existingClusterIdentifier %s names the team's cluster; fix: an existing cluster is only read: create no RDS resource in this layer", [r.type, r.name, id])
}

findings contains finding("RDS-012", r, msg) if {
	id := existing_cluster_id
	some r in of_type("aws:cloudwatch/logGroup:LogGroup")
	startswith(object.get(inputs(r), "name", ""), "/aws/rds/")
	msg := sprintf("%s %q (%s) is created although existingClusterIdentifier %s names the team's cluster, whose log exports are the team's; fix: do not create RDS's log groups for it", [r.type, r.name, inputs(r).name, id])
}

findings contains finding("RDS-012", r, msg) if {
	id := existing_cluster_id
	some r in of_type("aws:secretsmanager/secretRotation:SecretRotation")
	msg := sprintf("%s %q changes a rotation schedule although existingClusterIdentifier %s names the team's cluster, whose master secret is the team's; fix: leave its rotation alone", [r.type, r.name, id])
}

# The layer writes its rules as aws:vpc rule resources; the provider's
# other shapes (a securityGroupRule, a group's inline rules) are refused
# outright, so that no rule escapes the check below.
findings contains finding("RDS-012", r, msg) if {
	id := existing_cluster_id
	some r in resources
	r.type in {"aws:ec2/securityGroupRule:SecurityGroupRule", "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"}
	msg := sprintf("%s %q is created although existingClusterIdentifier %s names the team's cluster; fix: admit the rotator with one aws:vpc SecurityGroupIngressRule (referencedSecurityGroupId, the cluster's port), and create no group or other rule shape", [r.type, r.name, id])
}

findings contains finding("RDS-012", r, msg) if {
	id := existing_cluster_id
	some r in resources
	r.type in {"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"}
	not peer_rule_on_one_port(inputs(r))
	msg := sprintf("%s %q is not a rule between two groups on one TCP port (existingClusterIdentifier %s); fix: admit the rotator's security group (referencedSecurityGroupId) on the cluster's port only", [r.type, r.name, id])
}

peer_rule_on_one_port(i) if {
	present(object.get(i, "referencedSecurityGroupId", null))
	not present(object.get(i, "cidrIpv4", null))
	not present(object.get(i, "cidrIpv6", null))
	i.ipProtocol == "tcp"
	i.fromPort == i.toPort
}
