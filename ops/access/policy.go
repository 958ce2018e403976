// Package access evaluates AWS policies offline, by AWS's documented
// evaluation logic, for the elements and condition operators the vault's
// policies use: whether a principal may make a request, given its identity
// policies and the resource's policy (a secret's resource policy or a KMS
// key policy), and which statement decided.
//
// It is a model, not AWS: it knows no service control policies, permission
// boundaries, session policies, grants or VPC endpoint policies, and it
// refuses (with an error) any condition operator or policy variable it does
// not implement rather than guess.
//
// The rules, each cited where it is implemented:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
package access

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Policy is a parsed policy document.
type Policy struct {
	// Name says where the policy comes from ("secret policy of app",
	// "key policy"); decisions name their statement as Name/Sid.
	Name       string
	Statements []Statement
}

// Statement is one statement, every element normalised to lists.
type Statement struct {
	Sid    string
	Effect string // "Allow" or "Deny"
	// Principal and NotPrincipal are nil when absent (identity policies
	// have neither).
	Principal, NotPrincipal *Principals
	// Exactly one of Action and NotAction, and one of Resource and
	// NotResource, is set (the other nil).
	Action, NotAction     []string
	Resource, NotResource []string
	// Condition is operator -> key -> values.
	Condition map[string]map[string][]string
}

// Principals is a Principal (or NotPrincipal) element: "*" (Any) or a map
// of principal types to identifiers.
type Principals struct {
	Any     bool
	AWS     []string
	Service []string
}

// Parse reads a policy document (JSON). IAM accepts a string or a list for
// most elements, and a bare "*" for Principal:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
func Parse(name, document string) (Policy, error) {
	var raw struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(document), &raw); err != nil {
		return Policy{}, fmt.Errorf("%s: %w", name, err)
	}
	var stmts []map[string]json.RawMessage
	if err := json.Unmarshal(raw.Statement, &stmts); err != nil {
		var one map[string]json.RawMessage
		if err2 := json.Unmarshal(raw.Statement, &one); err2 != nil {
			return Policy{}, fmt.Errorf("%s: Statement: %w", name, err)
		}
		stmts = []map[string]json.RawMessage{one}
	}
	p := Policy{Name: name}
	for i, m := range stmts {
		s, err := parseStatement(m)
		if err != nil {
			return Policy{}, fmt.Errorf("%s: statement %d (%s): %w", name, i, s.Sid, err)
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

func parseStatement(m map[string]json.RawMessage) (Statement, error) {
	var s Statement
	for k, v := range m {
		var err error
		switch k {
		case "Sid":
			err = json.Unmarshal(v, &s.Sid)
		case "Effect":
			err = json.Unmarshal(v, &s.Effect)
		case "Principal":
			s.Principal, err = parsePrincipals(v)
		case "NotPrincipal":
			s.NotPrincipal, err = parsePrincipals(v)
		case "Action":
			s.Action, err = stringList(v)
		case "NotAction":
			s.NotAction, err = stringList(v)
		case "Resource":
			s.Resource, err = stringList(v)
		case "NotResource":
			s.NotResource, err = stringList(v)
		case "Condition":
			s.Condition, err = parseCondition(v)
		default:
			err = fmt.Errorf("unknown element %q", k)
		}
		if err != nil {
			return s, fmt.Errorf("%s: %w", k, err)
		}
	}
	switch {
	case s.Effect != "Allow" && s.Effect != "Deny":
		return s, fmt.Errorf("effect %q is neither Allow nor Deny", s.Effect)
	case (s.Action == nil) == (s.NotAction == nil):
		return s, fmt.Errorf("a statement has exactly one of Action and NotAction")
	case (s.Resource == nil) == (s.NotResource == nil):
		return s, fmt.Errorf("a statement has exactly one of Resource and NotResource")
	case s.Principal != nil && s.NotPrincipal != nil:
		return s, fmt.Errorf("a statement has at most one of Principal and NotPrincipal")
	case emptyList(s.Action, s.NotAction, s.Resource, s.NotResource):
		// An empty NotAction would cover every action and an empty
		// Action none; what AWS does with either is not documented, so
		// the evaluator refuses to guess.
		return s, fmt.Errorf("an empty Action, NotAction, Resource or NotResource list is not modelled")
	}
	return s, nil
}

func parsePrincipals(v json.RawMessage) (*Principals, error) {
	var star string
	if err := json.Unmarshal(v, &star); err == nil {
		if star != "*" {
			return nil, fmt.Errorf("%q: a bare Principal must be \"*\"", star)
		}
		return &Principals{Any: true}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, err
	}
	p := &Principals{}
	for k, raw := range m {
		ids, err := stringList(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		switch k {
		case "AWS":
			for _, id := range ids {
				// A role session named as a principal gets access "directly
				// to the session", outside the role's boundary and session
				// policies; naming the role covers every session of it.
				// Only the role is modelled, so a session fails rather
				// than being matched as nothing.
				// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-role-session
				if strings.HasPrefix(id, "arn:") && strings.Contains(id, ":assumed-role/") {
					return nil, fmt.Errorf("%s: a role session as principal is not modelled (name the role)", id)
				}
			}
			p.AWS = ids
		case "Service":
			p.Service = ids
		default:
			return nil, fmt.Errorf("principal type %q is not modelled", k)
		}
	}
	return p, nil
}

func parseCondition(v json.RawMessage) (map[string]map[string][]string, error) {
	var m map[string]map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, err
	}
	out := map[string]map[string][]string{}
	for op, keys := range m {
		out[op] = map[string][]string{}
		for key, raw := range keys {
			vals, err := scalarList(raw)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", op, key, err)
			}
			out[op][key] = vals
		}
	}
	return out, nil
}

// emptyList reports whether any of the lists is present but empty.
func emptyList(lists ...[]string) bool {
	for _, l := range lists {
		if l != nil && len(l) == 0 {
			return true
		}
	}
	return false
}

// stringList reads a string or a list of strings.
func stringList(v json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(v, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(v, &many); err != nil {
		return nil, err
	}
	if many == nil {
		many = []string{}
	}
	return many, nil
}

// scalarList reads a condition value: a string, boolean or number, or a
// list of them, as strings (policy values are compared as text: a JSON true
// and "true" are the same to Bool).
func scalarList(v json.RawMessage) ([]string, error) {
	var many []json.RawMessage
	if err := json.Unmarshal(v, &many); err != nil {
		many = []json.RawMessage{v}
	}
	out := make([]string, 0, len(many))
	for _, raw := range many {
		var x any
		if err := json.Unmarshal(raw, &x); err != nil {
			return nil, err
		}
		switch t := x.(type) {
		case string:
			out = append(out, t)
		case bool:
			out = append(out, strconv.FormatBool(t))
		case float64:
			out = append(out, strconv.FormatFloat(t, 'f', -1, 64))
		default:
			return nil, fmt.Errorf("value %s is not a string, boolean or number", raw)
		}
	}
	return out, nil
}

// ConditionKeys are the condition keys a policy's statements test, sorted,
// in lower case (condition key names are case-insensitive).
func (p Policy) ConditionKeys() []string {
	seen := map[string]bool{}
	for _, s := range p.Statements {
		for _, keys := range s.Condition {
			for k := range keys {
				seen[strings.ToLower(k)] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
