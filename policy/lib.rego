# Helpers every rule shares. `input` is one layer's synth document
# (build/synth/<layer>.json, see README "Policy gate"); pulumi.rego builds the
# same shape from Pulumi's policy-analyzer input.
package dbvault

import rego.v1

# findings is what `go run mage.go dev:audit` evaluates: one object per violation.
# Each rule file adds to it with finding(); the name avoids the prefixes
# (deny, violation, warn, stack_) that Pulumi's OPA analyzer treats as policies.

# finding returns a violation of rule id by resource r with message msg. A
# rule whose catalog entry names a class (rules[id].class, catalog.rego)
# applies only to layers of that environmentClass: for the others finding is
# undefined, so the rule's `findings contains finding(...)` adds nothing.
finding(id, r, msg) := {
	"rule": id,
	"severity": rules[id].severity,
	"layer": object.get(input, "layer", ""),
	"resource": r.name,
	"type": r.type,
	"message": msg,
} if applies(id)

applies(id) if not rules[id].class

applies(id) if rules[id].class == class

# resources are the layer's AWS resources (components and stack references are
# Pulumi's own and carry nothing to check).
resources := [r |
	some r in object.get(input, "resources", [])
	startswith(r.type, "aws:")
]

of_type(t) := [r | some r in resources; r.type == t]

inputs(r) := object.get(r, "inputs", {})

# prop(r, k) is input k of r, or null when unset. Use it (not inputs(r).k)
# under `not`, where an undefined reference would silently skip the check.
prop(r, k) := object.get(inputs(r), k, null)

options(r) := object.get(r, "options", {})

# suffix is the environmentSuffix: the layer's config (bare or project-scoped
# key), else the stack's name (each environment's stack is named after it).
suffix := s if {
	candidates := [v |
		some k, v in object.get(input, "config", {})
		suffix_key(k)
		is_string(v)
		v != ""
	]
	count(candidates) > 0
	s := candidates[0]
} else := object.get(input, "stack", "")

suffix_key(k) if k == "environmentSuffix"

suffix_key(k) if endswith(k, ":environmentSuffix")

# --- environment class --------------------------------------------------------

# environment_classes are the values kit accepts for config environmentClass:
# ephemeral (the default: destroyable without manual steps) and production
# (kept: deletion protection, final snapshot, protect, long windows).
environment_classes := {"ephemeral", "production"}

# class_settings: the layer's environmentClass config entries (bare or
# project-scoped key), unset ones ("") left out.
class_settings := {k: v |
	some k, v in object.get(input, "config", {})
	class_key(k)
	v != ""
}

class_key(k) if k == "environmentClass"

class_key(k) if endswith(k, ":environmentClass")

# class is the layer's environmentClass: its config value, else "ephemeral"
# (kit's default). A value outside environment_classes is kept as it is, so
# neither class's rules apply to it and GEN-002 reports it; entries that
# disagree are GEN-002 too (class is then the first key's, in key order).
class := c if {
	vals := [v | some k in sort(object.keys(class_settings)); v := class_settings[k]]
	count(vals) > 0
	c := vals[0]
} else := "ephemeral"

is_ephemeral if class == "ephemeral"

is_production if class == "production"

# known(x): a real value, not a placeholder for a secret or a value unknown at
# preview time. Rules that compare values skip the unknowable ones instead of
# guessing; rules that require a value treat "[secret]"/"[unknown]" as set.
known(x) if {
	x != null
	not x in {"", "[secret]", "[unknown]"}
}

present(x) if {
	x != null
	not x in {"", [], {}}
}

as_list(x) := x if is_array(x)

as_list(x) := [x] if is_string(x)

as_list(x) := [] if x == null

# --- policy documents -------------------------------------------------------

identity_policy_types := {
	"aws:iam/rolePolicy:RolePolicy",
	"aws:iam/policy:Policy",
	"aws:iam/userPolicy:UserPolicy",
	"aws:iam/groupPolicy:GroupPolicy",
}

key_policy_types := {"aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy"}

# policy_texts: every policy document in the layer, with its kind.
policy_texts contains {"r": r, "kind": "identity", "text": inputs(r).policy} if {
	some r in resources
	r.type in identity_policy_types
	present(inputs(r).policy)
}

policy_texts contains {"r": r, "kind": "identity", "text": p.policy} if {
	some r in of_type("aws:iam/role:Role")
	some p in object.get(inputs(r), "inlinePolicies", [])
	present(p.policy)
}

policy_texts contains {"r": r, "kind": "trust", "text": inputs(r).assumeRolePolicy} if {
	some r in of_type("aws:iam/role:Role")
	present(inputs(r).assumeRolePolicy)
}

policy_texts contains {"r": r, "kind": "key", "text": inputs(r).policy} if {
	some r in resources
	r.type in key_policy_types
	present(inputs(r).policy)
}

# resource_policy_types hold a resource-based policy in `policy`.
resource_policy_types := {
	"aws:s3/bucketPolicy:BucketPolicy",
	"aws:sns/topicPolicy:TopicPolicy",
	"aws:secretsmanager/secretPolicy:SecretPolicy",
	"aws:sqs/queuePolicy:QueuePolicy",
}

policy_texts contains {"r": r, "kind": "resource", "text": inputs(r).policy} if {
	some r in resources
	r.type in resource_policy_types
	present(inputs(r).policy)
}

policy_texts contains {"r": r, "kind": "endpoint", "text": inputs(r).policy} if {
	some r in of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
	present(inputs(r).policy)
}

parse_policy(t) := json.unmarshal(t) if {
	is_string(t)
	json.is_valid(t)
}

parse_policy(t) := t if is_object(t)

# statements: every statement of every readable policy, with its resource and kind.
statements contains {"r": p.r, "kind": p.kind, "st": st} if {
	some p in policy_texts
	doc := parse_policy(p.text)
	some st in as_list_obj(doc.Statement)
}

as_list_obj(x) := x if is_array(x)

as_list_obj(x) := [x] if is_object(x)

as_list_obj(x) := [] if {
	not is_array(x)
	not is_object(x)
}

allows(st) if st.Effect == "Allow"

actions(st) := [lower(a) | some a in as_list(object.get(st, "Action", null))]

resources_of(st) := as_list(object.get(st, "Resource", null))

# condition_keys: the statement's condition keys, lower-cased (AWS compares
# them case-insensitively), whatever the operator.
condition_keys(st) := {lower(k) |
	some _, block in object.get(st, "Condition", {})
	some k, _ in block
}

# condition_keys_under(st, ops): the keys used with one of the operators ops.
condition_keys_under(st, ops) := {lower(k) |
	some op, block in object.get(st, "Condition", {})
	op in ops
	some k, _ in block
}

principal_services(st) := {s | some s in as_list(object.get(object.get(st, "Principal", {}), "Service", null))} if is_object(object.get(st, "Principal", null))

principal_services(st) := set() if not is_object(object.get(st, "Principal", null))

principal_is_anyone(st) if st.Principal == "*"

principal_is_anyone(st) if "*" in as_list(object.get(object.get(st, "Principal", {}), "AWS", null))

# --- names and tags -----------------------------------------------------------

tag_value(r, key) := object.get(tags(r), key, "")

# tags(r) are the tags r carries in AWS: its provider's defaultTags (the
# synth document's r.defaultTags) with its own tags input over them, as the
# AWS provider merges them into tagsAll (a resource's own tag wins:
# https://www.hashicorp.com/blog/default-tags-in-the-terraform-aws-provider).
tags(r) := object.union(default_tags(r), own_tags(r))

default_tags(r) := t if {
	not r.type in no_default_tags_types
	t := object.get(r, "defaultTags", {})
	is_object(t)
} else := {}

own_tags(r) := t if {
	t := object.get(inputs(r), "tags", {})
	is_object(t)
} else := {}
