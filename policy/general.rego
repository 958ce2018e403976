# GEN-001, GEN-002, SNS-001, CTL-001: destroyability (ephemeral layers), the
# environment class, alert topics, the audit trail.
package dbvault

import rego.v1

# GEN-001 applies to ephemeral layers only (rules["GEN-001"].class): a
# production layer protects its stateful resources instead (PRD-001).
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

# GEN-002: the class must be one kit knows; otherwise no class's rules apply.
findings contains finding("GEN-002", {"name": k, "type": "pulumi:config"}, msg) if {
	some k, v in class_settings
	not v in environment_classes
	msg := sprintf("config %s is %v, which is no environmentClass, so neither the ephemeral nor the production rules apply to this layer; fix: set it to \"ephemeral\" or \"production\" (or remove it: the default is ephemeral)", [k, v])
}

findings contains finding("GEN-002", {"name": k, "type": "pulumi:config"}, msg) if {
	every v in class_settings {
		v in environment_classes
	}
	count({v | some v in class_settings}) > 1
	k := sort(object.keys(class_settings))[0]
	msg := sprintf("the layer's environmentClass entries disagree (%v); fix: set one environmentClass for the layer", [class_settings])
}

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
