# SEC-001..006: Secrets Manager secrets, their rotation and their resource
# policies, and the rotation schedule of RDS's own master secret.
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

# SEC-005: an application secret is readable only by the principals its
# policy names. blockPublicPolicy makes Secrets Manager refuse any later
# policy that would admit another account or anyone; the Deny of
# GetSecretValue to "*" unless aws:PrincipalArn is one of a list is what
# keeps every other principal of the account out, whatever IAM grants it.
secret_policies := of_type("aws:secretsmanager/secretPolicy:SecretPolicy")

findings contains finding("SEC-005", s, msg) if {
	some s in secrets
	not guarded(s)
	msg := sprintf("%s %q has no secret policy with blockPublicPolicy: true and a Deny of secretsmanager:GetSecretValue to Principal \"*\" unless aws:PrincipalArn is a named principal; fix: add an aws:secretsmanager/secretPolicy:SecretPolicy with secretArn = this secret's ARN, blockPublicPolicy: true and that Deny (ArnNotEquals aws:PrincipalArn [readers, rotator role, administrators], optionally BoolIfExists aws:PrincipalIsAWSService false)", [s.type, s.name])
}

guarded(s) if {
	some p in secret_policies
	names_secret(prop(p, "secretArn"), s)
	prop(p, "blockPublicPolicy") == true
	readers_only_named(prop(p, "policy"))
}

# A policy not known before deploy (built from other resources' ARNs) cannot
# be compared; the rule only needs it set then.
readers_only_named(text) if text in {"[unknown]", "[secret]"}

readers_only_named(text) if {
	doc := parse_policy(text)
	some st in as_list_obj(doc.Statement)
	denies_reading_to_unnamed(st)
}

# denies_reading_to_unnamed(st): st denies GetSecretValue to everyone except
# the principals it names. Every condition of a statement must hold for it to
# apply, so any other condition (aws:SecureTransport, aws:SourceIp, ...) would
# narrow the Deny and let unnamed principals read in the other cases: only
# aws:PrincipalArn (negated, exact ARNs) and aws:PrincipalIsAWSService false
# (Secrets Manager's and RDS's own calls) are accepted.
denies_reading_to_unnamed(st) if {
	st.Effect == "Deny"
	principal_is_anyone(st)
	some a in actions(st)
	glob.match(a, [], "secretsmanager:getsecretvalue")
	"aws:principalarn" in condition_keys(st)
	every op, block in object.get(st, "Condition", {}) {
		every k, v in block {
			narrowing_condition_ok(op, lower(k), v)
		}
	}
}

# ArnNotEquals and ArnNotLike both treat * and ? as wildcards; a pattern such
# as role/* would exempt every role of the account, so values are exact.
narrowing_condition_ok(op, "aws:principalarn", v) if {
	op in {"ArnNotEquals", "ArnNotLike", "StringNotEquals", "StringNotLike"}
	vals := condition_values(v)
	count(vals) > 0
	every x in vals {
		is_string(x)
		x != ""
		not regex.match(`[*?]`, x)
	}
}

narrowing_condition_ok(op, "aws:principalisawsservice", v) if {
	op in {"Bool", "BoolIfExists"}
	every x in condition_values(v) {
		x in {false, "false"}
	}
}

condition_values(v) := v if is_array(v)

condition_values(v) := [v] if not is_array(v)

# SEC-006: RDS rotates the secret it manages on a schedule of its own, which
# nobody declared or reviewed; the layer declares it (a managed rotation), so
# SEC-003 checks its period and a change of it is a change of the code.
findings contains finding("SEC-006", c, msg) if {
	some c in clusters
	manages_master_password(c)
	not has_managed_rotation
	msg := sprintf("%s %q has RDS manage its master password, but the layer sets no rotation schedule for that master secret; fix: add an aws:secretsmanager/secretRotation:SecretRotation with secretId = the cluster's masterUserSecrets[0].secretArn, no rotationLambdaArn (RDS rotates it), rotationRules.automaticallyAfterDays at most 30, rotateImmediately: false, and the resource option retainOnDelete: true", [c.type, c.name])
}

has_managed_rotation if {
	some r in rotations
	managed_rotation(r)
}
