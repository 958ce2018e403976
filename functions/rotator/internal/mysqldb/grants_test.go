package mysqldb

import "testing"

func TestRewriteGrant(t *testing.T) {
	const to = "`app_clone`@`%`"
	cases := []struct {
		name, row, want string
		skip            bool
	}{
		{"MariaDB usage with password hash", "GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*0123456789ABCDEF0123456789ABCDEF01234567'", "", true},
		{"MySQL 8 usage", "GRANT USAGE ON *.* TO `app`@`%`", "", true},
		{"MariaDB usage with REQUIRE", "GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*AB' REQUIRE SSL", "", true},
		{"MariaDB usage with limits", "GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*AB' REQUIRE X509 WITH MAX_QUERIES_PER_HOUR 10",
			"GRANT USAGE ON *.* TO " + to + " WITH MAX_QUERIES_PER_HOUR 10", false},
		{"database privileges", "GRANT SELECT, INSERT, UPDATE ON `shop`.* TO `app`@`%`", "GRANT SELECT, INSERT, UPDATE ON `shop`.* TO " + to, false},
		{"grant option", "GRANT ALL PRIVILEGES ON `shop`.`orders` TO `app`@`%` WITH GRANT OPTION", "GRANT ALL PRIVILEGES ON `shop`.`orders` TO " + to + " WITH GRANT OPTION", false},
		{"columns", "GRANT SELECT (`id`, `total`), UPDATE (`total`) ON `shop`.`orders` TO `app`@`%`", "GRANT SELECT (`id`, `total`), UPDATE (`total`) ON `shop`.`orders` TO " + to, false},
		{"MySQL 8 role", "GRANT `reader`@`%` TO `app`@`%`", "GRANT `reader`@`%` TO " + to, false},
		{"MariaDB role with admin option", "GRANT `reader` TO `app`@`%` WITH ADMIN OPTION", "GRANT `reader` TO " + to + " WITH ADMIN OPTION", false},
		{"MySQL 8 dynamic privileges", "GRANT APPLICATION_PASSWORD_ADMIN,AUDIT_ADMIN ON *.* TO `app`@`%`", "GRANT APPLICATION_PASSWORD_ADMIN, AUDIT_ADMIN ON *.* TO " + to, false},
		{"quoted names with odd characters", "GRANT SELECT ON `we``ird db`.* TO 'app'@'10.0.%'", "GRANT SELECT ON `we``ird db`.* TO " + to, false},
		{"MySQL 5.7 quoting", "GRANT SELECT ON `db`.* TO 'app'@'%'", "GRANT SELECT ON `db`.* TO " + to, false},
		{"proxy", "GRANT PROXY ON ''@'%' TO 'app'@'%'", "GRANT PROXY ON ''@'%' TO " + to, false},
		{"MariaDB default role", "SET DEFAULT ROLE `reader` FOR `app`@`%`", "SET DEFAULT ROLE `reader` FOR " + to, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok, err := RewriteGrant(c.row, to)
			if err != nil {
				t.Fatal(err)
			}
			if ok == c.skip {
				t.Fatalf("ok=%v, want %v (got %q)", ok, !c.skip, got)
			}
			if got != c.want {
				t.Fatalf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestRewriteGrantRefusesWhatItCannotRead(t *testing.T) {
	for _, row := range []string{"", "REVOKE ALL ON *.* FROM x", "SET DEFAULT ROLE FOR `a`@`%`", "SET DEFAULT ROLE `r`", "SET DEFAULT ROLE `r` FOR `a`@`%`, `b`", "GRANT SELECT ON db.*", "GRANT SELECT ON `db.* TO `a`", "GRANT SELECT ON db.* TO"} {
		if _, _, err := RewriteGrant(row, "`x`@`%`"); err == nil {
			t.Errorf("accepted %q", row)
		}
	}
}

func FuzzRewriteGrant(f *testing.F) {
	for _, s := range []string{
		"GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*AB' REQUIRE SSL",
		"GRANT SELECT (`id`) ON `shop`.`o` TO 'app'@'%' WITH GRANT OPTION",
		"GRANT `r`@`%` TO `app`@`%` WITH ADMIN OPTION",
		"SET DEFAULT ROLE `r` FOR `app`@`%`",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, row string) {
		stmt, ok, err := RewriteGrant(row, "`n`@`h`")
		if err != nil || !ok {
			return
		}
		// What it writes is itself a grant it can read, for the same account.
		again, ok2, err := RewriteGrant(stmt, "`n`@`h`")
		if err != nil || !ok2 || again != stmt {
			t.Fatalf("rewrite is not stable: %q -> %q -> %q (%v)", row, stmt, again, err)
		}
	})
}
