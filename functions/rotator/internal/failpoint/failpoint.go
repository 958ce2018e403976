// Package failpoint lets crash tests stop the rotator abruptly at a named
// point between two Secrets Manager calls or SQL statements.
//
// In a normal build Hit does nothing and costs a function call. In a build
// with `-tags failpoints`, the environment variable ROTATOR_FAILPOINT=<name>
// (or <name>:<n>, the n-th time the point is reached in this process) makes
// the process exit at once with status 137, as if the Lambda sandbox had been
// killed: no deferred function runs, no connection is closed, no response is
// sent. The names are listed in Names.
package failpoint

import (
	"strconv"
	"strings"
)

// EnvVar names the environment variable read by builds with the failpoints tag.
const EnvVar = "ROTATOR_FAILPOINT"

// ExitCode is the status a failpoint exits with (128 + SIGKILL, what a killed
// process reports).
const ExitCode = 137

// Names lists every checkpoint the rotator passes, in the order a full
// rotation reaches them. Each is "<step>:<moment>"; "mysql:..." points are
// passed inside a step: after each GRANT row and the REQUIRE statement that
// alternating users' setSecret copies, and after each GRANT and REVOKE that
// declared users' setSecret runs to make the grants exact.
// setSecret:after-create-database is passed by declared users only.
var Names = []string{
	"handler:after-describe",
	"createSecret:after-get-current",
	"createSecret:after-get-pending",
	"createSecret:after-random-password",
	"createSecret:after-put",
	"setSecret:after-get-current",
	"setSecret:after-get-pending",
	"setSecret:after-login-pending",
	"setSecret:after-get-previous",
	"setSecret:after-get-master",
	"setSecret:after-login",
	"setSecret:after-create-database",
	"setSecret:after-create-user",
	"mysql:after-grant",
	"mysql:after-revoke",
	"mysql:after-require",
	"setSecret:after-grants",
	"setSecret:after-alter",
	"testSecret:after-get-pending",
	"testSecret:after-login",
	"testSecret:after-probe",
	"finishSecret:after-update-stage",
}

// Parse reads a ROTATOR_FAILPOINT value: "<name>" (the first time) or
// "<name>:<n>" (the n-th time). Names contain a colon themselves
// ("setSecret:after-alter"), so a count is the last colon-separated field
// when it is a positive number.
func Parse(v string) (name string, n int) {
	if i := strings.LastIndex(v, ":"); i >= 0 {
		if c, err := strconv.Atoi(v[i+1:]); err == nil && c > 0 {
			return v[:i], c
		}
	}
	return v, 1
}
