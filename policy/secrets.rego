# SEC-001..004: Secrets Manager secrets and their rotation.
package dbvault

import rego.v1

secrets := of_type("aws:secretsmanager/secret:Secret")

rotations := of_type("aws:secretsmanager/secretRotation:SecretRotation")

findings contains finding("SEC-001", r, msg) if {
	some r in secrets
	not customer_key(prop(r, "kmsKeyId"))
	msg := sprintf("%s %q is encrypted with the AWS-managed key; fix: set kmsKeyId to the secrets key's ARN", [r.type, r.name])
}

customer_key(k) if {
	present(k)
	not contains(lower(k), "alias/aws/")
}

# rotates(rot, s): rot rotates secret s. secretId is the secret's ARN
# (arn:...:secret:<name>-XXXXXX) or its name; at preview time it may be
# unknown, and then a layer's single secret is meant.
rotates(rot, s) if inputs(rot).secretId == inputs(s).name

rotates(rot, s) if contains(inputs(rot).secretId, concat("", [":secret:", inputs(s).name, "-"]))

rotates(rot, _) if {
	count(secrets) == 1
	not known(prop(rot, "secretId"))
}

findings contains finding("SEC-002", s, msg) if {
	some s in secrets
	not rotated(s)
	msg := sprintf("%s %q has no rotation; fix: add an aws:secretsmanager/secretRotation:SecretRotation with the rotator as rotationLambdaArn", [s.type, s.name])
}

rotated(s) if {
	some rot in rotations
	rotates(rot, s)
}

findings contains finding("SEC-003", r, msg) if {
	some r in rotations
	not within_30_days(object.get(inputs(r), "rotationRules", {}))
	msg := sprintf("%s %q does not rotate at least every 30 days (rotationRules = %v); fix: set rotationRules.automaticallyAfterDays between 1 and 30", [r.type, r.name, object.get(inputs(r), "rotationRules", null)])
}

within_30_days(rules) if {
	d := rules.automaticallyAfterDays
	d >= 1
	d <= 30
}

within_30_days(rules) if {
	not rules.automaticallyAfterDays
	m := regex.find_all_string_submatch_n(`^rate\((\d+) (day|days|hour|hours)\)$`, rules.scheduleExpression, 1)
	count(m) == 1
	n := to_number(m[0][1])
	n >= 1
	days := n / units_per_day(m[0][2])
	days <= 30
}

units_per_day(unit) := 1 if startswith(unit, "day")

units_per_day(unit) := 24 if startswith(unit, "hour")

findings contains finding("SEC-004", r, msg) if {
	some r in rotations
	not present(prop(r, "rotationLambdaArn"))
	msg := sprintf("%s %q names no rotation function; fix: set rotationLambdaArn to the rotator's ARN", [r.type, r.name])
}
