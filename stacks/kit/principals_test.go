package kit

import "testing"

// Only a list of IAM Identity Center roles alone is one no one could
// restore; a role or user of the account's own beside them, with or
// without a path, is enough.
func TestOnlyIdentityCenterAdministrators(t *testing.T) {
	const sso = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-2/AWSReservedSSO_Admin_0123456789abcdef"
	const ssoUSEast1 = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Ops_fedcba9876543210"
	for _, c := range []struct {
		admins  []string
		refused bool
	}{
		{[]string{sso}, true},
		{[]string{sso, ssoUSEast1}, true},
		{[]string{sso, "arn:aws:iam::123456789012:role/platform/vault-break-glass"}, false},
		{[]string{"arn:aws:iam::123456789012:user/breakglass", sso}, false},
		{[]string{"arn:aws:iam::123456789012:role/vault-admin"}, false},
	} {
		if got := OnlyIdentityCenterAdministrators(c.admins) != ""; got != c.refused {
			t.Errorf("%v: refused %v, want %v", c.admins, got, c.refused)
		}
	}
}
