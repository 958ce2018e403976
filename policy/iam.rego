# IAM-001..006: identity, trust, key and endpoint policies.
package dbvault

import rego.v1

wildcard_action(a) if a == "*"

wildcard_action(a) if endswith(a, ":*")

findings contains finding("IAM-001", p.r, msg) if {
	some p in statements
	p.kind in {"identity", "trust"}
	allows(p.st)
	wild := [a | some a in actions(p.st); wildcard_action(a)]
	count(wild) > 0
	msg := sprintf("%s %q allows the wildcard action(s) %v; fix: list the exact actions the principal needs", [p.r.type, p.r.name, wild])
}

findings contains finding("IAM-002", p.r, msg) if {
	some p in statements
	p.kind == "identity"
	allows(p.st)
	"*" in resources_of(p.st)
	scoped := sort([a | some a in actions(p.st); not no_resource_actions[a]])
	count(scoped) > 0
	msg := sprintf("%s %q allows %v on Resource \"*\", but these actions take resource ARNs; fix: name the ARNs (or move the actions that AWS offers no resource for into a statement of their own, see no_resource_actions in policy/catalog.rego)", [p.r.type, p.r.name, scoped])
}

findings contains finding("IAM-003", p.r, msg) if {
	some p in statements
	allows(p.st)
	some k in ["NotAction", "NotResource"]
	k in object.keys(p.st)
	msg := sprintf("%s %q has an Allow statement with %s; fix: write the allowed actions and resources out (Allow + Action + Resource)", [p.r.type, p.r.name, k])
}

assumes_role(st) if {
	some a in actions(st)
	startswith(a, "sts:assumerole")
}

findings contains finding("IAM-004", p.r, msg) if {
	some p in statements
	p.kind == "trust"
	allows(p.st)
	not names_service_only(p.st)
	msg := sprintf("%s %q trusts %v; fix: trust only the service principal that uses the role (Principal {\"Service\": \"<service>.amazonaws.com\"})", [p.r.type, p.r.name, object.get(p.st, "Principal", "<no Principal>")])
}

names_service_only(st) if {
	is_object(st.Principal)
	object.keys(st.Principal) == {"Service"}
	services := principal_services(st)
	count(services) > 0
	not "*" in services
}

findings contains finding("IAM-005", p.r, msg) if {
	some p in statements
	p.kind == "trust"
	allows(p.st)
	assumes_role(p.st)
	some svc in principal_services(p.st)
	source_account_services[svc]
	keys := condition_keys(p.st)
	not "aws:sourceaccount" in keys
	not "aws:sourcearn" in keys
	msg := sprintf("%s %q lets %s assume it without an aws:SourceAccount or aws:SourceArn condition; fix: add Condition {\"StringEquals\": {\"aws:SourceAccount\": \"<this account id>\"}}", [p.r.type, p.r.name, svc])
}

findings contains finding("IAM-006", p.r, msg) if {
	some p in policy_texts
	is_string(p.text)
	known(p.text)
	not json.is_valid(p.text)
	msg := sprintf("%s %q has a %s policy that is not valid JSON; fix: build it from kit.PolicyDocument and marshal it", [p.r.type, p.r.name, p.kind])
}

findings contains finding("IAM-006", p.r, msg) if {
	some p in policy_texts
	doc := parse_policy(p.text)
	count(as_list_obj(object.get(doc, "Statement", null))) == 0
	msg := sprintf("%s %q has a %s policy without statements; fix: build it from kit.PolicyDocument with its statements", [p.r.type, p.r.name, p.kind])
}
