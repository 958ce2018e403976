# The adapter for `pulumi preview --policy-pack policy/`.
#
# Pulumi's OPA analyzer (github.com/pulumi/pulumi-policy-opa) evaluates rules
# named stack_deny/stack_warn once per stack with
#   input = {"resources": [{"__type", "__urn", "__name", "__options": {"protect",
#            "ignoreChanges", "parent", ...}, "__properties": {...}, "dependencies",
#            ...}]}
# (plus each resource's properties repeated at its top level), where a secret
# or a value unknown at preview time is a wrapper object {"Element": ...}. The
# synth files give the rules one layer as {"layer", "project", "stack",
# "config", "resources": [{"urn", "type", "name", "parent", "inputs",
# "options"}], "outputs"}. pulumi_to_synth turns the first into the second, and
# stack_deny/stack_warn evaluate the very same `findings` over it: high
# findings block the preview (mandatory), the others are advisory.
package dbvault

import rego.v1

stack_deny contains msg if {
	some f in pulumi_findings
	f.severity == "high"
	msg := pulumi_message(f)
}

stack_warn contains msg if {
	some f in pulumi_findings
	f.severity != "high"
	msg := pulumi_message(f)
}

# deny guards against a blind pass: pulumi-policy-opa before v0.2.0 hands
# resource rules the bare properties (no __type) and never evaluates stack_
# rules, so with it this pack would check nothing. The analyzer evaluates
# deny once per resource; with v0.2.0 or later (which sets __type) it is
# always empty. Synth documents never reach it (`go run mage.go dev:audit` reads
# `findings`).
deny contains msg if {
	not "__type" in object.keys(input)
	not "layer" in object.keys(input)
	msg := "the dbvault policy pack needs pulumi-policy-opa v0.2.0 or later (resource metadata and stack_deny rules); this analyzer would check nothing: pulumi plugin install analyzer policy-opa <v0.2.0 or later>"
}

pulumi_message(f) := sprintf("%s (%s, layer %s): %s", [f.rule, f.severity, f.layer, f.message])

pulumi_findings := fs if {
	is_pulumi_stack_input(input)
	doc := pulumi_to_synth(input)
	fs := findings with input as doc
}

# is_pulumi_stack_input(x): x is the analyzer's stack input, not a synth file.
is_pulumi_stack_input(x) if {
	is_array(x.resources)
	not "layer" in object.keys(x)
	some r in x.resources
	is_string(r.__urn)
}

# pulumi_to_synth(x) is the synth document of the stack the analyzer sees.
# The environmentSuffix is the stack's name (every layer's stack is named
# after its environment) and the layer is the project without "vault-".
pulumi_to_synth(x) := {
	"layer": trim_prefix(project, "vault-"),
	"project": project,
	"stack": stack,
	"config": {"environmentSuffix": stack},
	"resources": [synth_resource(r) | some r in x.resources],
	"outputs": {},
} if {
	some r in x.resources
	parts := split(r.__urn, "::")
	stack := trim_prefix(parts[0], "urn:pulumi:")
	project := parts[1]
}

synth_resource(r) := {
	"urn": r.__urn,
	"type": r.__type,
	"name": r.__name,
	"parent": object.get(opts, "parent", ""),
	"inputs": unwrap(object.get(r, "__properties", {})),
	"provider": object.get(object.get(r, "__provider", {}), "urn", ""),
	"defaultTags": provider_default_tags(object.get(r, "__provider", {})),
	"options": {
		"protect": object.get(opts, "protect", false),
		"ignoreChanges": object.get(opts, "ignoreChanges", []),
		"retainOnDelete": object.get(opts, "retainOnDelete", false),
		"dependsOn": object.get(r, "dependencies", []),
	},
} if {
	opts := object.get(r, "__options", {})
}

# unwrap replaces every outermost wrapper in props by the synth's
# placeholder. The analyzer passes Pulumi's resource.Secret, resource.Computed
# and resource.Output values as they marshal to JSON: {"Element": {"V": <value>}}
# (Output's other fields are json:"-"). An empty or null V is a value the
# preview does not know yet ("[unknown]"); anything else is a secret
# ("[secret]"), which is all synth shows of one either.
unwrap(props) := json.patch(props, [{"op": "replace", "path": p, "value": placeholder(v)} |
	walk(props, [p, v])
	count(p) > 0
	wrapper(v)
	not wrapped_ancestor(props, p)
])

wrapper(v) if {
	is_object(v)
	object.keys(v) == {"Element"}
}

wrapped_ancestor(props, p) if {
	count(p) > 1
	some i in numbers.range(1, count(p) - 1)
	wrapper(object.get(props, array.slice(p, 0, i), null))
}

placeholder(v) := "[secret]" if {
	present(object.get(v.Element, "V", null))
} else := "[unknown]"

# provider_default_tags(p) are defaultTags.tags of the analyzer's __provider
# ({"type", "name", "urn", "properties"}), where the engine may hold an
# object-valued provider input JSON-encoded as a string.
provider_default_tags(p) := t if {
	dt := object.get(object.get(p, "properties", {}), "defaultTags", {})
	t := object.get(decoded(dt), "tags", {})
	is_object(t)
} else := {}

decoded(v) := json.unmarshal(v) if is_string(v)

decoded(v) := v if not is_string(v)
