package sandbox

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dbvault/dbvault/tools/internal/testmaria"
	"github.com/dbvault/dbvault/tools/internal/testrotator"
)

// rotator is built once for all tests of this package.
var rotator = testrotator.New(BuildRotator, false)

func TestMain(m *testing.M) { os.Exit(testrotator.Main(m)) }

// TestSandbox runs the sandbox as `mage sandbox` does, for every strategy,
// on the embedded server and on MariaDB, and reads its table.
func TestSandbox(t *testing.T) {
	bin := rotator.Need(t)
	for _, tc := range []struct {
		name, strategy string
		maria          bool
	}{
		{"embedded/single", Single, false},
		{"embedded/alternating", Alternating, false},
		{"embedded/declared", Declared, false},
		{"mariadb/single", Single, true},
		{"mariadb/alternating", Alternating, true},
		{"mariadb/declared", Declared, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := ""
			if tc.maria {
				dsn = testmaria.Need(t, "SANDBOX_TEST_MYSQL_DSN")
			}
			// A user cache without the RIE: the run says it builds it.
			newCache := tc.name == "mariadb/declared"
			if newCache {
				t.Setenv("XDG_CACHE_HOME", t.TempDir())
			}
			var out bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			res, err := Run(ctx, Options{Rotations: 3, Strategy: tc.strategy, MySQLDSN: dsn, Bootstrap: bin, Out: &out})
			if err != nil {
				t.Fatalf("Run: %v\n%s", err, out.String())
			}
			if !res.OK() || len(res.Rows) != 3 {
				t.Fatalf("not every rotation passed:\n%s", out.String())
			}
			var table bytes.Buffer
			if err := res.WriteTable(&table); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(table.String()), "\n")
			if len(lines) != 4 || !strings.Contains(lines[0], "finishSecret ms") {
				t.Fatalf("table:\n%s", table.String())
			}
			versions := map[string]bool{}
			for i, row := range res.Rows {
				if row.Rotation != i+1 || row.Result != "ok" || len(row.Steps) != 4 || row.Total <= 0 {
					t.Errorf("row %d: %+v", i+1, row)
				}
				versions[row.Version] = true
				if !strings.HasSuffix(strings.TrimSpace(lines[i+1]), "ok") {
					t.Errorf("table line %d: %q", i+1, lines[i+1])
				}
			}
			if len(versions) != 3 {
				t.Errorf("versions are not distinct: %v", versions)
			}
			if newCache && !strings.Contains(out.String(), "building the Lambda runtime interface emulator") {
				t.Errorf("with an empty user cache, the run does not say it builds the RIE:\n%s", out.String())
			}
			if !strings.Contains(out.String(), "cleanup: users dropped") {
				t.Errorf("no cleanup line:\n%s", out.String())
			}
			if tc.strategy == Declared {
				// The new flow end to end: provisioned from the
				// declaration, exact grants, master untouched, and an
				// application on AWSCURRENT never refused.
				for _, want := range []string{
					"in RDS's managed shape",
					"rotation 1/3: check: the declared user",
					"holds exactly SELECT, INSERT, UPDATE, DELETE on",
					"the master secret is unchanged: ok",
					"rotation 3/3: check: the previous user",
				} {
					if !strings.Contains(out.String(), want) {
						t.Errorf("the output does not say %q:\n%s", want, out.String())
					}
				}
				if res.AppLogins == 0 || len(res.AppFailures) > 0 {
					t.Errorf("application: %d logins, failures %v", res.AppLogins, res.AppFailures)
				}
			}
			if tc.maria {
				assertNoSandboxUsers(t, dsn, out.String())
			}
		})
	}
}

// assertNoSandboxUsers checks that the run dropped the users it made: the
// user name is in the progress line "user sbx_... created".
func assertNoSandboxUsers(t *testing.T, dsn, out string) {
	t.Helper()
	i := strings.Index(out, "user sbx_")
	if i < 0 {
		t.Fatalf("no user line in:\n%s", out)
	}
	user := strings.Fields(out[i+len("user "):])[0]
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM mysql.user WHERE User LIKE ?", user+"%").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d users named %s* are left after the run", n, user)
	}
}

// TestBadOptions: bad options fail before anything starts.
func TestBadOptions(t *testing.T) {
	for _, o := range []Options{
		{Rotations: -1},
		{Strategy: "round-robin"},
		{MySQLDSN: "not a dsn"},
		{MySQLDSN: "root@unix(/tmp/x.sock)/"},
	} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("%+v was accepted", o)
		}
	}
}

// TestCancelCleansUp: a cancelled run (Ctrl-C) still drops its users.
func TestCancelCleansUp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the rotator (-short)")
	}
	dsn := testmaria.Need(t, "SANDBOX_TEST_MYSQL_DSN")
	bin := rotator.Need(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	w := &cancelAfter{w: &out, marker: "with its secret", cancel: cancel}
	_, err := Run(ctx, Options{Rotations: 3, MySQLDSN: dsn, Bootstrap: bin, Out: w})
	if err == nil {
		t.Fatalf("a cancelled run returned no error:\n%s", out.String())
	}
	assertNoSandboxUsers(t, dsn, out.String())
}

// cancelAfter cancels once a progress line contains marker.
type cancelAfter struct {
	w      io.Writer
	marker string
	cancel func()
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), c.marker) {
		c.cancel()
	}
	return c.w.Write(p)
}
