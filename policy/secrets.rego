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

# names_secret(id, s): id (a rotation's secretId, a secret policy's
# secretArn) names secret s of this layer. It is the secret's ARN
# (arn:...:secret:<name>-XXXXXX) or its name; at preview time it may be
# unknown, and then a layer's single secret is meant.
names_secret(id, s) if id == inputs(s).name

names_secret(id, s) if contains(id, concat("", [":secret:", inputs(s).name, "-"]))

names_secret(id, _) if {
	count(secrets) == 1
	not known(id)
}

# rotates(rot, s): rot rotates secret s.
rotates(rot, s) if names_secret(prop(rot, "secretId"), s)

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
	not managed_rotation(r)
	msg := sprintf("%s %q names no rotation function; fix: set rotationLambdaArn to the rotator's ARN", [r.type, r.name])
}

# managed_rotation(r): r is the schedule of a master secret that RDS owns
# (the cluster's manageMasterUserPassword). RDS creates that secret (named
# rds!cluster-<id>), keeps the database password in step with it and rotates
# it itself: a SecretRotation on it names no rotationLambdaArn, because there
# is no Lambda; it only sets the period (SEC-003 checks it). So SEC-004 does
# not apply to it. It also carries retainOnDelete (GEN-001 lets it): the
# provider deletes a SecretRotation with CancelRotateSecret, which would turn
# RDS's rotation off on a secret that outlives the resource; left alone, the
# schedule goes with the secret, which RDS deletes with the cluster, so
# nothing is left behind. It is only that when all of these hold: no
# rotationLambdaArn, a secretId that is an RDS-managed secret's ARN
# (":secret:rds!") or not known yet (preview: the cluster's output), and a
# cluster of this layer that has manageMasterUserPassword true. A Lambda-less
# rotation of any other secret still fails SEC-004, retainOnDelete anywhere
# else still fails GEN-001.
managed_rotation(r) if {
	r.type == "aws:secretsmanager/secretRotation:SecretRotation"
	not present(prop(r, "rotationLambdaArn"))
	rds_managed_secret_id(prop(r, "secretId"))
	some c in clusters
	manages_master_password(c)
}

rds_managed_secret_id(id) if contains(id, ":secret:rds!")

rds_managed_secret_id(id) if {
	id != null
	not known(id)
}

manages_master_password(c) if prop(c, "manageMasterUserPassword") == true
