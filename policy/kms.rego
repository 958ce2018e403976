# KMS-001..005: customer-managed keys and their key policies.
package dbvault

import rego.v1

findings contains finding("KMS-001", r, msg) if {
	some r in of_type("aws:kms/key:Key")
	not prop(r, "enableKeyRotation") == true
	msg := sprintf("%s %q does not rotate; fix: set enableKeyRotation: true", [r.type, r.name])
}

# A rotation period longer than a year (KMS allows up to 2560 days;
# unset is 365: https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKeyRotation.html)
# is not the annual rotation the rule promises.
findings contains finding("KMS-001", r, msg) if {
	some r in of_type("aws:kms/key:Key")
	days := prop(r, "rotationPeriodInDays")
	is_number(days)
	days > 365
	msg := sprintf("%s %q rotates every %v days; fix: remove rotationPeriodInDays (365 by default) or set it to 365 or less", [r.type, r.name, days])
}

findings contains finding("KMS-001", r, msg) if {
	some r in of_type("aws:kms/key:Key")
	days := prop(r, "rotationPeriodInDays")
	present(days)
	not is_number(days)
	msg := sprintf("%s %q has a rotationPeriodInDays the gate cannot read (%v); fix: give it as a plain number of days, 365 or less", [r.type, r.name, days])
}

# service_conditions: condition keys that tie a service's use of a key to this
# account, a calling service, or the data being encrypted.
service_condition(k) if k in {"kms:viaservice", "aws:sourceaccount", "aws:sourcearn"}

service_condition(k) if startswith(k, "kms:encryptioncontext:")

logs_principal(svc) if regex.match(`^logs\.[a-z0-9-]+\.amazonaws\.com$`, svc)

findings contains finding("KMS-002", p.r, msg) if {
	some p in statements
	p.kind == "key"
	allows(p.st)
	some svc in principal_services(p.st)
	not logs_principal(svc)
	not any_service_condition(p.st)
	msg := sprintf("%s %q admits the service principal %s without a condition; fix: add kms:ViaService (e.g. secretsmanager.<region>.amazonaws.com), an encryption-context condition, or aws:SourceArn/aws:SourceAccount", [p.r.type, p.r.name, svc])
}

any_service_condition(st) if {
	some k in condition_keys(st)
	service_condition(k)
}

findings contains finding("KMS-003", p.r, msg) if {
	some p in statements
	p.kind == "key"
	allows(p.st)
	some svc in principal_services(p.st)
	logs_principal(svc)
	not "kms:encryptioncontext:aws:logs:arn" in condition_keys_under(p.st, {"ArnLike", "ArnEquals"})
	msg := sprintf("%s %q admits %s without ArnLike/ArnEquals on kms:EncryptionContext:aws:logs:arn; fix: add Condition {\"ArnLike\": {\"kms:EncryptionContext:aws:logs:arn\": \"arn:aws:logs:<region>:<account>:log-group:*-<suffix>\"}} for this environment's log groups", [p.r.type, p.r.name, svc])
}

account_condition(st) if {
	some k in condition_keys(st)
	k in {"kms:calleraccount", "aws:principalaccount", "aws:principalorgid"}
}

findings contains finding("KMS-004", p.r, msg) if {
	some p in statements
	p.kind == "key"
	allows(p.st)
	principal_is_anyone(p.st)
	not account_condition(p.st)
	msg := sprintf("%s %q allows Principal \"*\" without kms:CallerAccount, aws:PrincipalAccount or aws:PrincipalOrgID; fix: name the principals (the account root, the service) or add the account condition", [p.r.type, p.r.name])
}

findings contains finding("KMS-005", r, msg) if {
	some r in of_type("aws:kms/key:Key")
	not valid_deletion_window(inputs(r))
	msg := sprintf("%s %q sets no deletion window between 7 and 30 days (deletionWindowInDays = %v); fix: set deletionWindowInDays", [r.type, r.name, object.get(inputs(r), "deletionWindowInDays", null)])
}

valid_deletion_window(i) if {
	d := i.deletionWindowInDays
	is_number(d)
	d >= 7
	d <= 30
}
