package mysqldb

import (
	"slices"
	"testing"
)

func TestPlanExactGrants(t *testing.T) {
	const acct = "`app`@`%`"
	obj := grantObject("app_db", false)
	if obj != "`app\\_db`.*" || grantObject("app_db", true) != "`app_db`.*" {
		t.Fatalf("grantObject = %s", obj)
	}
	plan := func(rows ...string) []string {
		t.Helper()
		p, err := planExactGrants(rows, acct, obj, []string{"SELECT", "INSERT", "CREATE TEMPORARY TABLES"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range p {
			out = append(out, s.sql+" ["+s.checkpoint+"]")
		}
		return out
	}
	for name, tc := range map[string]struct {
		rows []string
		want []string
	}{
		"new account (MariaDB)": {
			[]string{"GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*0123456789ABCDEF0123456789ABCDEF01234567'"},
			[]string{"GRANT SELECT, INSERT, CREATE TEMPORARY TABLES ON `app\\_db`.* TO `app`@`%` [mysql:after-grant]"},
		},
		"exact already (MySQL 8)": {
			[]string{"GRANT USAGE ON *.* TO `app`@`%`", "GRANT SELECT, INSERT, CREATE TEMPORARY TABLES ON `app\\_db`.* TO `app`@`%`"},
			nil,
		},
		"more and less than declared, and elsewhere": {
			[]string{
				"GRANT PROCESS ON *.* TO `app`@`%` WITH GRANT OPTION",
				"GRANT SELECT, UPDATE, DELETE ON `app\\_db`.* TO `app`@`%`",
				"GRANT SELECT ON `other`.* TO `app`@`%`",
				"GRANT UPDATE (`total`), SELECT ON `app\\_db`.`orders` TO `app`@`%`",
				"GRANT EXECUTE ON PROCEDURE `app\\_db`.`p` TO `app`@`%`",
				"GRANT `reporting` TO `app`@`%`",
				"GRANT `r2`@`%` TO `app`@`%` WITH ADMIN OPTION",
			},
			[]string{
				"GRANT INSERT, CREATE TEMPORARY TABLES ON `app\\_db`.* TO `app`@`%` [mysql:after-grant]",
				"REVOKE DELETE, UPDATE ON `app\\_db`.* FROM `app`@`%` [mysql:after-revoke]",
				"REVOKE GRANT OPTION ON *.* FROM `app`@`%` [mysql:after-revoke]",
				"REVOKE PROCESS ON *.* FROM `app`@`%` [mysql:after-revoke]",
				"REVOKE SELECT ON `other`.* FROM `app`@`%` [mysql:after-revoke]",
				"REVOKE UPDATE (`total`), SELECT ON `app\\_db`.`orders` FROM `app`@`%` [mysql:after-revoke]",
				"REVOKE EXECUTE ON PROCEDURE `app\\_db`.`p` FROM `app`@`%` [mysql:after-revoke]",
				"REVOKE `reporting` FROM `app`@`%` [mysql:after-revoke]",
				"REVOKE `r2`@`%` FROM `app`@`%` [mysql:after-revoke]",
			},
		},
		"ALL PRIVILEGES on the database": {
			[]string{"GRANT ALL PRIVILEGES ON `app\\_db`.* TO `app`@`%` WITH GRANT OPTION"},
			[]string{
				"REVOKE ALTER, ALTER ROUTINE, CREATE, CREATE ROUTINE, CREATE VIEW, DELETE, DROP, EVENT, EXECUTE, INDEX, LOCK TABLES, REFERENCES, SHOW VIEW, TRIGGER, UPDATE ON `app\\_db`.* FROM `app`@`%` [mysql:after-revoke]",
				"REVOKE GRANT OPTION ON `app\\_db`.* FROM `app`@`%` [mysql:after-revoke]",
			},
		},
		"a role and a default role (MariaDB's SET DEFAULT ROLE row)": {
			[]string{
				"GRANT `reporting` TO `app`@`%`",
				"GRANT SELECT, INSERT, CREATE TEMPORARY TABLES ON `app\\_db`.* TO `app`@`%`",
				"SET DEFAULT ROLE `reporting` FOR `app`@`%`",
			},
			[]string{
				"SET DEFAULT ROLE NONE FOR `app`@`%` [mysql:after-revoke]",
				"REVOKE `reporting` FROM `app`@`%` [mysql:after-revoke]",
			},
		},
		"a privilege this code does not know (MariaDB)": {
			[]string{"GRANT SELECT, INSERT, CREATE TEMPORARY TABLES, DELETE HISTORY ON `app\\_db`.* TO `app`@`%`"},
			[]string{"REVOKE DELETE HISTORY ON `app\\_db`.* FROM `app`@`%` [mysql:after-revoke]"},
		},
	} {
		if got := plan(tc.rows...); !slices.Equal(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", name, got, tc.want)
		}
	}
	// keep: held privileges on obj that stay (AWSCURRENT's account while a
	// shrunk declaration waits for its turn), never granted.
	if p, err := planExactGrants([]string{"GRANT SELECT, DELETE ON `app\\_db`.* TO `app`@`%`", "GRANT SELECT ON `other`.* TO `app`@`%`"}, acct, obj, []string{"SELECT", "INSERT"}, []string{"DELETE", "UPDATE"}); err != nil || len(p) != 2 ||
		p[0].sql != "GRANT INSERT ON `app\\_db`.* TO `app`@`%`" || p[1].sql != "REVOKE SELECT ON `other`.* FROM `app`@`%`" {
		t.Errorf("with keep: %v %v", p, err)
	}
	if _, err := planExactGrants([]string{"REVOKE x"}, acct, obj, nil, nil); err == nil {
		t.Error("a row that is not a GRANT was accepted")
	}
}
