package access

import (
	"fmt"
	"sort"
	"strings"
)

// Context is a request's context: condition key -> values. Keys are
// case-insensitive (they are compared in lower case); a key that is absent,
// or present with no value, is "not in the request context".
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html#AccessPolicyLanguage_RequestContext
type Context map[string][]string

func (c Context) lookup(key string) []string {
	for k, v := range c {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// matcher compares one request value with one policy value.
type matcher func(policy, value string) bool

// baseOperators are the operators implemented, and whether each is a
// negated one (true: the statement matches when NO value matches).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
type baseOperator struct {
	match   matcher
	negated bool
}

var baseOperators = map[string]baseOperator{
	// #Conditions_String: StringEquals is exact and case-sensitive,
	// StringLike adds * and ?, the IgnoreCase forms fold case.
	"StringEquals":              {func(p, v string) bool { return p == v }, false},
	"StringNotEquals":           {func(p, v string) bool { return p == v }, true},
	"StringEqualsIgnoreCase":    {strings.EqualFold, false},
	"StringNotEqualsIgnoreCase": {strings.EqualFold, true},
	"StringLike":                {glob, false},
	"StringNotLike":             {glob, true},
	// #Conditions_ARN: ArnEquals and ArnLike behave the same, component by
	// component with wildcards.
	"ArnEquals":    {arnLike, false},
	"ArnLike":      {arnLike, false},
	"ArnNotEquals": {arnLike, true},
	"ArnNotLike":   {arnLike, true},
	// #Conditions_Boolean.
	"Bool": {strings.EqualFold, false},
}

// conditionsMatch reports whether every operator of a statement's
// Condition block holds for ctx. Several operators, and several keys under
// one operator, are ANDed; several values for one key are ORed (NORed for
// a negated operator).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
// Every operator is evaluated, in a fixed order, before the answer: one the
// evaluator cannot model is an error even where another is false, whatever
// the map's order.
func conditionsMatch(cond map[string]map[string][]string, ctx Context) (bool, error) {
	all := true
	for _, op := range sortedKeys(cond) {
		keys := cond[op]
		for _, key := range sortedKeys(keys) {
			ok, err := conditionHolds(op, key, keys[key], ctx.lookup(key))
			if err != nil {
				return false, err
			}
			all = all && ok
		}
	}
	return all, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkOperator refuses what the evaluator cannot model: an unknown
// operator, a policy variable, or a Null without exactly one value.
func checkOperator(op, key string, policy []string) error {
	for _, v := range policy {
		if strings.Contains(v, "${") {
			return fmt.Errorf("%s %s: policy variables are not modelled (%q)", op, key, v)
		}
	}
	if op == "Null" {
		if len(policy) != 1 {
			return fmt.Errorf("condition Null %s: want one value, true or false", key)
		}
		return nil
	}
	_, _, _, err := parseOperator(op)
	return err
}

// parseOperator splits an operator into its set prefix (ForAnyValue,
// ForAllValues or none), its base operator and whether it ends in IfExists.
func parseOperator(op string) (set string, base baseOperator, ifExists bool, err error) {
	name := op
	for _, prefix := range []string{"ForAnyValue:", "ForAllValues:"} {
		if strings.HasPrefix(name, prefix) {
			set, name = strings.TrimSuffix(prefix, ":"), strings.TrimPrefix(name, prefix)
		}
	}
	ifExists = strings.HasSuffix(name, "IfExists")
	name = strings.TrimSuffix(name, "IfExists")
	base, ok := baseOperators[name]
	if !ok {
		return "", baseOperator{}, false, fmt.Errorf("condition operator %s is not modelled", op)
	}
	return set, base, ifExists, nil
}

// conditionHolds evaluates one operator on one key.
func conditionHolds(op, key string, policy, request []string) (bool, error) {
	if err := checkOperator(op, key, policy); err != nil {
		return false, err
	}
	// Null tests presence alone: "true" holds when the key is absent.
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Null
	if op == "Null" {
		return strings.EqualFold(policy[0], "true") == (len(request) == 0), nil
	}
	set, base, ifExists, _ := parseOperator(op)
	anyMatch := func(v string) bool {
		for _, p := range policy {
			if base.match(p, v) {
				return true
			}
		}
		return false
	}
	// A value "holds" when it matches a policy value (or, for a negated
	// operator, matches none).
	holds := func(v string) bool { return anyMatch(v) != base.negated }

	if len(request) == 0 {
		switch {
		case ifExists:
			// ...IfExists: a key that is absent makes the condition true.
			// #Conditions_IfExists
			return true, nil
		case set == "ForAllValues":
			// ForAllValues holds for a request without the key.
			// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
			return true, nil
		case set == "ForAnyValue":
			return false, nil
		default:
			// A key absent from the request makes the condition false,
			// except for a negated operator (StringNotEquals,
			// ArnNotEquals, ...), which is then true. (Important note at
			// the top of reference_policies_elements_condition_operators.)
			return base.negated, nil
		}
	}
	switch set {
	case "ForAnyValue":
		for _, v := range request {
			if holds(v) {
				return true, nil
			}
		}
		return false, nil
	case "ForAllValues":
		for _, v := range request {
			if !holds(v) {
				return false, nil
			}
		}
		return true, nil
	}
	// Without a set operator: some request value matches some policy
	// value; for a negated operator, none does.
	matched := false
	for _, v := range request {
		if anyMatch(v) {
			matched = true
		}
	}
	return matched != base.negated, nil
}
