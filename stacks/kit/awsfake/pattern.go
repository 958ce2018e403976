package awsfake

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dbvault/dbvault/stacks/kit"
)

// MatchesPattern is EventBridge's pattern matching for the part of the
// pattern language the vault's rules use (EventBridge User Guide,
// "Comparison operators for use in event patterns",
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html,
// and "Creating event patterns"): every field the pattern names must match
// ("And"); a field's list matches when one of its values equals the
// event's value, or, for an event array, one of its elements; a value may
// be an operator, "prefix", "equals-ignore-case" or "wildcard" ("*"
// matches any run of characters); a nested object matches the event's
// object at that key; "$or" holds a list of patterns of which one must
// match. A field the event lacks matches nothing. Any other operator is an
// error, so that a pattern using one is not judged by a guess.
func MatchesPattern(pattern, event string) (bool, error) {
	var p, e map[string]any
	if err := json.Unmarshal([]byte(pattern), &p); err != nil {
		return false, fmt.Errorf("pattern: %w", err)
	}
	if err := json.Unmarshal([]byte(event), &e); err != nil {
		return false, fmt.Errorf("event: %w", err)
	}
	return matchObject(p, e)
}

func matchObject(pattern, event map[string]any) (bool, error) {
	for k, p := range pattern {
		if k == "$or" {
			alts, ok := p.([]any)
			if !ok {
				return false, fmt.Errorf("$or holds %T, not a list of patterns", p)
			}
			hit := false
			for _, a := range alts {
				sub, isObj := a.(map[string]any)
				if !isObj {
					return false, fmt.Errorf("$or holds %T, not a pattern", a)
				}
				m, err := matchObject(sub, event)
				if err != nil {
					return false, err
				}
				hit = hit || m
			}
			if !hit {
				return false, nil
			}
			continue
		}
		v, present := event[k]
		if !present {
			return false, nil
		}
		var m bool
		var err error
		switch p := p.(type) {
		case map[string]any:
			sub, isObj := v.(map[string]any)
			if isObj {
				m, err = matchObject(p, sub)
			}
		case []any:
			m, err = matchValues(p, v)
		default:
			return false, fmt.Errorf("pattern field %s is %T: not a list or an object", k, p)
		}
		if err != nil || !m {
			return false, err
		}
	}
	return true, nil
}

func matchValues(values []any, v any) (bool, error) {
	if arr, isArr := v.([]any); isArr {
		for _, e := range arr {
			if m, err := matchValues(values, e); m || err != nil {
				return m, err
			}
		}
		return false, nil
	}
	s, isStr := v.(string)
	for _, want := range values {
		op, isObj := want.(map[string]any)
		if !isObj {
			if want == v {
				return true, nil
			}
			continue
		}
		if len(op) != 1 {
			return false, fmt.Errorf("operator %v is not implemented here", want)
		}
		for name, arg := range op {
			a, ok := arg.(string)
			if !ok {
				return false, fmt.Errorf("operator %v is not implemented here", want)
			}
			switch name {
			case "prefix":
				ok = strings.HasPrefix(s, a)
			case "equals-ignore-case":
				ok = strings.EqualFold(s, a)
			case "wildcard":
				ok = kit.WildcardMatch(a, s)
			default:
				return false, fmt.Errorf("operator %v is not implemented here", want)
			}
			if isStr && ok {
				return true, nil
			}
		}
	}
	return false, nil
}
