# GEN-001, SNS-001, CTL-001: destroyability, alert topics, the audit trail.
package dbvault

import rego.v1

findings contains finding("GEN-001", r, msg) if {
	some r in resources
	some opt in ["protect", "retainOnDelete"]
	options(r)[opt] == true
	not retained_by_design(r, opt)
	msg := sprintf("%s %q has %s set, so `destroy` cannot remove it; fix: drop the %s resource option", [r.type, r.name, opt, opt])
}

# retained_by_design(r, opt): the one resource that keeps retainOnDelete: the
# schedule of RDS's managed master secret (managed_rotation, secrets.rego).
# Deleting it would call CancelRotateSecret and turn RDS's rotation off;
# retained, it goes with the secret, which RDS deletes with the cluster, so
# `destroy` still leaves nothing behind. protect stays forbidden on it.
retained_by_design(r, "retainOnDelete") if managed_rotation(r)

findings contains finding("SNS-001", r, msg) if {
	some r in of_type("aws:sns/topic:Topic")
	not customer_key(prop(r, "kmsMasterKeyId"))
	msg := sprintf("%s %q is not encrypted with a customer-managed key; fix: set kmsMasterKeyId to a customer key whose policy admits events.amazonaws.com and cloudwatch.amazonaws.com with conditions", [r.type, r.name])
}

findings contains finding("CTL-001", r, msg) if {
	some r in of_type("aws:cloudtrail/trail:Trail")
	missing := [k | some k in ["enableLogFileValidation", "kmsKeyId"]; not trail_setting(inputs(r), k)]
	count(missing) > 0
	msg := sprintf("%s %q does not set %v; fix: set enableLogFileValidation: true and kmsKeyId to a customer key", [r.type, r.name, missing])
}

trail_setting(i, "enableLogFileValidation") if i.enableLogFileValidation == true

trail_setting(i, "kmsKeyId") if present(i.kmsKeyId)
