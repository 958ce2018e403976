package access

import (
	"regexp"
	"strings"
	"sync"
)

// glob reports whether s matches pattern, where * matches any run of
// characters (none included) and ? exactly one.
func glob(pattern, s string) bool {
	// Iterative matching with one backtrack point: linear enough for
	// policy-sized strings, and no regexp to escape.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		// The pattern's * comes first: a * in s is a character like any
		// other, which the pattern's * may cover.
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// actionMatches: action names are case-insensitive, and * and ? match
// within them ("secretsmanager:*", "kms:GenerateDataKey*").
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
func actionMatches(patterns []string, action string) bool {
	a := strings.ToLower(action)
	for _, p := range patterns {
		if glob(strings.ToLower(p), a) {
			return true
		}
	}
	return false
}

// resourceMatches: "*" is every resource; otherwise * and ? match within
// each colon-separated segment of the ARN, and a * that is the last
// character of a segment "can expand to match beyond the colon
// boundaries". Resource ARNs are case-sensitive. (Condition operators
// compare ARNs component by component instead: arnLike.)
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards
func resourceMatches(patterns []string, resource string) bool {
	for _, p := range patterns {
		if p == "*" || resourcePattern(p).MatchString(resource) {
			return true
		}
	}
	return false
}

var resourcePatterns sync.Map // pattern -> *regexp.Regexp

// resourcePattern compiles a Resource pattern. Within each part between
// colons, * and ? match characters other than a colon; a * that is the
// last character of a part matches colons too (so "arn:aws:s3:::b/*" and
// "...:log-group:/aws/lambda/f:*" cover what follows).
func resourcePattern(pattern string) *regexp.Regexp {
	if re, ok := resourcePatterns.Load(pattern); ok {
		return re.(*regexp.Regexp)
	}
	var b strings.Builder
	b.WriteString("^")
	for i, part := range strings.Split(pattern, ":") {
		if i > 0 {
			b.WriteString(":")
		}
		for j, c := range part {
			switch {
			case c == '*' && j == len(part)-1:
				b.WriteString(".*")
			case c == '*':
				b.WriteString("[^:]*")
			case c == '?':
				b.WriteString("[^:]")
			default:
				b.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
	}
	b.WriteString("$")
	re := regexp.MustCompile(b.String())
	resourcePatterns.Store(pattern, re)
	return re
}

// arnLike matches an ARN against an ARN pattern segment by segment: an
// ARN's six colon-delimited components are each checked separately, each
// with * and ? (the last component, the resource, may itself hold colons).
// A pattern with fewer components whose last one ends in * lets that *
// cover the rest of the ARN.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
func arnLike(pattern, arn string) bool {
	ps := strings.SplitN(pattern, ":", 6)
	as := strings.SplitN(arn, ":", 6)
	if len(ps) < len(as) {
		last := ps[len(ps)-1]
		if !strings.HasSuffix(last, "*") {
			return false
		}
		as = append(as[:len(ps)-1], strings.Join(as[len(ps)-1:], ":"))
	}
	if len(ps) != len(as) {
		return false
	}
	for i := range ps {
		if !glob(ps[i], as[i]) {
			return false
		}
	}
	return true
}

// ActionCovered reports whether s's Action (or NotAction) covers action,
// whatever its principal, resource and conditions.
func ActionCovered(s Statement, action string) bool {
	if s.Action != nil {
		return actionMatches(s.Action, action)
	}
	return !actionMatches(s.NotAction, action)
}
