package kit

import "strings"

// WildcardMatch reports whether name matches pattern, whose only operator
// is "*" (any run of characters), as EventBridge's wildcard operator
// matches (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html).
func WildcardMatch(pattern, name string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(name, p)
		}
		k := strings.Index(name, p)
		if k < 0 {
			return false
		}
		name = name[k+len(p):]
	}
	return name == ""
}
