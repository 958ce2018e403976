package mysqldb

import (
	"slices"
	"strings"
	"testing"
)

// The statements a reset sends per dialect. MySQL 8 has no server here, so
// its list is asserted as written: ALTER USER ... IDENTIFIED BY keeps a
// secondary password that RETAIN CURRENT PASSWORD made, and only DISCARD
// OLD PASSWORD removes it (MySQL 8.0 Reference Manual, Password
// Management, dual password support:
// https://dev.mysql.com/doc/refman/8.0/en/password-management.html#dual-passwords);
// default roles go with SET DEFAULT ROLE NONE TO
// (https://dev.mysql.com/doc/refman/8.0/en/set-default-role.html).
func TestResetStatements(t *testing.T) {
	sqls := func(d dialect, plain bool) []string {
		var out []string
		for _, st := range resetStatements(d, plain) {
			s := st.sql
			if st.withPassword {
				s += " [password]"
			}
			out = append(out, s)
		}
		return out
	}
	for _, tc := range []struct {
		d     dialect
		plain bool
		want  []string
	}{
		{mySQL8, true, []string{
			"ALTER USER ?@? ACCOUNT UNLOCK",
			"ALTER USER ?@? REQUIRE NONE",
			"ALTER USER ?@? WITH MAX_QUERIES_PER_HOUR 0 MAX_UPDATES_PER_HOUR 0 MAX_CONNECTIONS_PER_HOUR 0 MAX_USER_CONNECTIONS 0",
			"SET DEFAULT ROLE NONE TO ?@?",
			"ALTER USER ?@? IDENTIFIED BY ? [password]",
			"ALTER USER ?@? DISCARD OLD PASSWORD",
		}},
		{mySQL8, false, []string{
			"ALTER USER ?@? ACCOUNT UNLOCK",
			"ALTER USER ?@? IDENTIFIED BY ? [password]",
			"ALTER USER ?@? DISCARD OLD PASSWORD",
		}},
		{mariaDB, true, []string{
			"ALTER USER ?@? ACCOUNT UNLOCK",
			"ALTER USER ?@? REQUIRE NONE",
			"ALTER USER ?@? WITH MAX_QUERIES_PER_HOUR 0 MAX_UPDATES_PER_HOUR 0 MAX_CONNECTIONS_PER_HOUR 0 MAX_USER_CONNECTIONS 0 MAX_STATEMENT_TIME 0",
			"SET DEFAULT ROLE NONE FOR ?@?",
			"ALTER USER ?@? IDENTIFIED VIA mysql_native_password USING PASSWORD(?) [password]",
		}},
		{embedded, true, []string{
			"ALTER USER ?@? WITH MAX_QUERIES_PER_HOUR 0 MAX_UPDATES_PER_HOUR 0 MAX_CONNECTIONS_PER_HOUR 0 MAX_USER_CONNECTIONS 0",
			"ALTER USER ?@? IDENTIFIED BY ? [password]",
		}},
	} {
		if got := sqls(tc.d, tc.plain); !slices.Equal(got, tc.want) {
			t.Errorf("%s (plain %v):\n got %q\nwant %q", tc.d.name, tc.plain, got, tc.want)
		}
	}
}

// checkAccount names what a reset account must not have, from SHOW CREATE
// USER as MariaDB 10.11 and MySQL 8 print it, and never quotes the hash.
func TestCheckAccount(t *testing.T) {
	const hash = "'*2B602296A79E0A8784ACC5C88D92E46588CCA3C3'"
	for _, tc := range []struct {
		row   string
		plain bool
		want  string // "" = accepted
	}{
		{"CREATE USER `app`@`%` IDENTIFIED BY PASSWORD " + hash, true, ""},
		{"CREATE USER 'app'@'%' IDENTIFIED WITH 'mysql_native_password' AS " + hash + " REQUIRE NONE PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK PASSWORD HISTORY DEFAULT PASSWORD REUSE INTERVAL DEFAULT PASSWORD REQUIRE CURRENT DEFAULT", true, ""},
		{"CREATE USER `app`@`%` IDENTIFIED VIA mysql_native_password USING " + hash + " OR mysql_native_password USING " + hash, true, "more than one login method"},
		{"CREATE USER 'app'@'%' IDENTIFIED WITH 'caching_sha2_password' AS " + hash + " AND IDENTIFIED WITH 'authentication_fido'", true, "2 login methods"},
		{"CREATE USER `app`@`%` IDENTIFIED BY PASSWORD " + hash + " ACCOUNT LOCK", false, "locked"},
		{"CREATE USER `app`@`%` IDENTIFIED BY PASSWORD " + hash + " WITH MAX_USER_CONNECTIONS 1", true, "MAX_USER_CONNECTIONS"},
		// The alternate user keeps the limits CopyGrants copied, and no other.
		{"CREATE USER `app`@`%` IDENTIFIED BY PASSWORD " + hash + " WITH MAX_USER_CONNECTIONS 1", false, ""},
		{"CREATE USER `app`@`%` IDENTIFIED BY PASSWORD " + hash + " WITH MAX_QUERIES_PER_HOUR 100 MAX_STATEMENT_TIME 2.500000", false, "MAX_STATEMENT_TIME"},
		{"CREATE USER `app`@`%` IDENTIFIED BY PASSWORD " + hash + " WITH MAX_STATEMENT_TIME 2.500000", true, "MAX_STATEMENT_TIME"},
		{"CREATE USER `app`@`%` IDENTIFIED BY PASSWORD " + hash + " REQUIRE SSL", true, "REQUIRE SSL"},
		{"CREATE USER `app`@`%` IDENTIFIED BY PASSWORD " + hash + " REQUIRE SSL", false, ""},
		{"CREATE USER 'app'@'%' IDENTIFIED WITH 'mysql_native_password' AS " + hash + " DEFAULT ROLE `r`@`%` REQUIRE NONE", true, "default role"},
	} {
		err := checkAccount(tc.row, tc.plain)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.row, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an error saying %q", tc.row, err, tc.want)
		case err != nil && strings.Contains(err.Error(), "2B602296"):
			t.Errorf("the error quotes the hash: %v", err)
		}
	}
}
