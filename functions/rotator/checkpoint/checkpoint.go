// Package checkpoint names the points of a rotation between two Secrets
// Manager calls or SQL statements, and is the one way the rotator marks
// them: Reach(ctx, name).
//
// What reaching a point does depends on who asks:
//
//   - a test puts a Func in the context (With): Reach calls it, and a
//     non-nil error stops the step there, as a crash would;
//   - a build with `-tags failpoints` and the environment variable
//     ROTATOR_FAILPOINT=<name> (or <name>:<n>, the n-th time the point is
//     reached in this process) exits the process at once with status 137,
//     as if the Lambda sandbox had been killed: no deferred function runs,
//     no connection is closed, no response is sent;
//   - otherwise (the Lambda's build) nothing happens.
//
// The names are constants so that crash tools (tools/chaos) and tests use
// the rotator's own list instead of repeating it.
package checkpoint

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// The checkpoints, in the order a full rotation reaches them. Each is
// "<step>:<moment>"; the MySQL ones are passed inside setSecret: after
// each GRANT row and the REQUIRE statement that alternating users copy,
// and after each GRANT and REVOKE that declared users' exact grants run.
// SetAfterCreateDatabase is passed by declared users only.
const (
	AfterDescribe             = "handler:after-describe"
	CreateAfterGetCurrent     = "createSecret:after-get-current"
	CreateAfterGetPending     = "createSecret:after-get-pending"
	CreateAfterRandomPassword = "createSecret:after-random-password"
	CreateAfterPut            = "createSecret:after-put"
	SetAfterGetCurrent        = "setSecret:after-get-current"
	SetAfterGetPending        = "setSecret:after-get-pending"
	SetAfterLoginPending      = "setSecret:after-login-pending"
	SetAfterGetPrevious       = "setSecret:after-get-previous"
	SetAfterGetMaster         = "setSecret:after-get-master"
	SetAfterLogin             = "setSecret:after-login"
	SetAfterCreateDatabase    = "setSecret:after-create-database"
	SetAfterCreateUser        = "setSecret:after-create-user"
	MySQLAfterGrant           = "mysql:after-grant"
	MySQLAfterRevoke          = "mysql:after-revoke"
	MySQLAfterRequire         = "mysql:after-require"
	SetAfterGrants            = "setSecret:after-grants"
	SetAfterAlter             = "setSecret:after-alter"
	TestAfterGetPending       = "testSecret:after-get-pending"
	TestAfterLogin            = "testSecret:after-login"
	TestAfterProbe            = "testSecret:after-probe"
	FinishAfterUpdateStage    = "finishSecret:after-update-stage"
)

// Names lists every checkpoint, in the order a full rotation reaches them.
var Names = []string{
	AfterDescribe,
	CreateAfterGetCurrent,
	CreateAfterGetPending,
	CreateAfterRandomPassword,
	CreateAfterPut,
	SetAfterGetCurrent,
	SetAfterGetPending,
	SetAfterLoginPending,
	SetAfterGetPrevious,
	SetAfterGetMaster,
	SetAfterLogin,
	SetAfterCreateDatabase,
	SetAfterCreateUser,
	MySQLAfterGrant,
	MySQLAfterRevoke,
	MySQLAfterRequire,
	SetAfterGrants,
	SetAfterAlter,
	TestAfterGetPending,
	TestAfterLogin,
	TestAfterProbe,
	FinishAfterUpdateStage,
}

// Func is told each checkpoint reached; a non-nil error stops the step
// there.
type Func func(name string) error

type funcKey struct{}

// With returns a context whose checkpoints go to f (nil: none do).
func With(ctx context.Context, f Func) context.Context {
	return context.WithValue(ctx, funcKey{}, f)
}

// Reach marks that the rotation reached the named point: the context's
// Func decides whether the step stops there; without one, a failpoints
// build may exit the process (see the package comment).
func Reach(ctx context.Context, name string) error {
	if f, ok := ctx.Value(funcKey{}).(Func); ok {
		if f == nil {
			return nil
		}
		if err := f(name); err != nil {
			return fmt.Errorf("stopped at checkpoint %s: %w", name, err)
		}
		return nil
	}
	exitIfNamed(name)
	return nil
}

// EnvVar names the environment variable read by builds with the failpoints tag.
const EnvVar = "ROTATOR_FAILPOINT"

// ExitCode is the status a failpoint exits with (128 + SIGKILL, what a killed
// process reports).
const ExitCode = 137

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
