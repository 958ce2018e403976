# LOG-001..002 and LMB-001..005: log groups and Lambda functions.
package dbvault

import rego.v1

log_groups := of_type("aws:cloudwatch/logGroup:LogGroup")

findings contains finding("LOG-001", r, msg) if {
	some r in log_groups
	not present(prop(r, "kmsKeyId"))
	msg := sprintf("%s %q is not KMS-encrypted; fix: set kmsKeyId to the logs key's ARN", [r.type, r.name])
}

findings contains finding("LOG-002", r, msg) if {
	some r in log_groups
	not retained(inputs(r))
	msg := sprintf("%s %q keeps its events forever (retentionInDays = %v); fix: set retentionInDays (e.g. 365)", [r.type, r.name, object.get(inputs(r), "retentionInDays", null)])
}

retained(i) if i.retentionInDays > 0

functions := of_type("aws:lambda/function:Function")

findings contains finding("LMB-001", r, msg) if {
	some r in functions
	not prop(r, "runtime") == "provided.al2023"
	msg := sprintf("%s %q runs on %v; fix: set runtime: provided.al2023 (Go bootstrap)", [r.type, r.name, object.get(inputs(r), "runtime", null)])
}

findings contains finding("LMB-002", r, msg) if {
	some r in functions
	not in_vpc(inputs(r))
	msg := sprintf("%s %q does not run in the VPC; fix: set vpcConfig {subnetIds: the private subnets, securityGroupIds: the rotator's group}", [r.type, r.name])
}

in_vpc(i) if {
	count(as_list(object.get(i.vpcConfig, "subnetIds", null))) > 0
	count(as_list(object.get(i.vpcConfig, "securityGroupIds", null))) > 0
}

# function_log_group(f): the log group the function writes to: its
# loggingConfig.logGroup, else Lambda's default /aws/lambda/<name>.
function_log_group(f) := g if {
	g := inputs(f).loggingConfig.logGroup
	present(g)
} else := concat("", ["/aws/lambda/", inputs(f).name])

encrypted_group(name) if {
	some g in log_groups
	inputs(g).name == name
	present(inputs(g).kmsKeyId)
}

findings contains finding("LMB-003", f, msg) if {
	some f in functions
	g := function_log_group(f)
	known(g)
	not encrypted_group(g)
	msg := sprintf("%s %q writes to log group %q, which this stack does not create KMS-encrypted; fix: create that log group with kmsKeyId and retentionInDays before the function, and point loggingConfig.logGroup at it", [f.type, f.name, g])
}

findings contains finding("LMB-004", r, msg) if {
	some r in functions
	t := inputs(r).timeout
	t > 300
	msg := sprintf("%s %q has a timeout of %v s; fix: set timeout to 300 or less", [r.type, r.name, t])
}

findings contains finding("LMB-005", r, msg) if {
	some r in of_type("aws:lambda/permission:Permission")
	endswith(object.get(inputs(r), "principal", ""), ".amazonaws.com")
	missing := [k | some k in ["sourceAccount", "sourceArn"]; not present(object.get(inputs(r), k, null))]
	count(missing) > 0
	msg := sprintf("%s %q lets %s invoke the function without %v; fix: set sourceAccount to this account and sourceArn to the one resource that invokes it", [r.type, r.name, inputs(r).principal, missing])
}
