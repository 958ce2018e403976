package rotation_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

var smtypesRules = smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonEscaped(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

// everyChar is every character GetRandomPassword can emit under the
// rotator's default exclusions (printable ASCII without space / @ " ' \).
func everyChar() string {
	var b strings.Builder
	for c := byte(33); c <= 126; c++ {
		if !strings.ContainsRune(`/@"'\`, rune(c)) {
			b.WriteByte(c)
		}
	}
	return b.String()
}
