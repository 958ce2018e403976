// Package kit holds what every layer of the vault shares: the naming rule,
// the compliance tags, the common configuration and the Layer type that lets
// one program run from `pulumi up`, from mage's inline Automation API runs,
// under the SDK's mocks in tests, and in `synth`.
package kit

import (
	"fmt"
	"regexp"
	"strings"
)

// MaxSuffixLen bounds environmentSuffix. The tightest derived name is the
// CloudTrail bucket ("cloudtrail-<region>-<suffix>-<12-digit account>", 63
// characters at most, 59 with the longest region name); 20 leaves every
// other name (RDS identifiers, Lambda and IAM names, 63 or 64 characters)
// inside its limit.
const MaxSuffixLen = 20

var suffixPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// ValidateSuffix reports whether s can serve as environmentSuffix: lower-case
// letters, digits and single hyphens between them (RDS identifiers forbid a
// trailing hyphen and two hyphens in a row), at most MaxSuffixLen characters.
func ValidateSuffix(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("environmentSuffix is required (e.g. dev or pr-42)")
	case len(s) > MaxSuffixLen:
		return fmt.Errorf("environmentSuffix %q is %d characters; at most %d keep every derived AWS name within its limit", s, len(s), MaxSuffixLen)
	case !suffixPattern.MatchString(s):
		return fmt.Errorf("environmentSuffix %q may hold only lower-case letters, digits and single hyphens between them", s)
	case len(s[strings.LastIndex(s, "-")+1:]) == 6:
		// Secret names end in -<suffix>; Secrets Manager appends a hyphen
		// and six characters to a secret's ARN, and warns: "Do not end your
		// secret name with a hyphen followed by six characters", or a
		// lookup by partial ARN may find the wrong secret.
		// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
		return fmt.Errorf("environmentSuffix %q ends in a part of six characters (%s); secret names would end in a hyphen and six characters, which Secrets Manager confuses with an ARN suffix: use a part of another length (e.g. %s1)", s, s[strings.LastIndex(s, "-")+1:], s)
	}
	return nil
}

// Name is the physical name of a resource: {resource-type}-{environmentSuffix}.
func Name(resourceType, suffix string) string {
	return resourceType + "-" + suffix
}
