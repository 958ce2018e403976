// Package sandbox rotates a real database user's password several times on
// this machine, with no AWS account: the Secrets Manager emulator
// (functions/rotator/smlocal) on a loopback port, a MySQL-compatible server (embedded
// by default, or a real one), and the real rotation function built from
// functions/rotator and run under the Lambda runtime interface emulator
// (tools/lambdaharness). After each rotation it proves, directly against
// the database, that AWSCURRENT logs in and that the old password no longer
// does (single user), or that both users log in (alternating users).
// Its default is the deployed model (declared users): a master secret in
// RDS's managed shape, an application user declared in the function's
// APP_USERS and provisioned by the first rotation with exactly the declared
// privileges, rotations alternating it with its clone, and an application
// logging in with AWSCURRENT throughout that must never be refused.
//
// It is what `go run mage.go sandbox` runs (through tools/cmd/sandbox), and
// its building blocks (Database, Emulator, Recorder, BuildRotator, the
// users and secrets of SetUpUser and SetUpDeclared, and the Rig of a
// database behind a fault proxy) serve the chaos runs and benchmarks too.
package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/dbvault/dbvault/functions/rotator/smlocal"
	"github.com/dbvault/dbvault/functions/rotator/syncbuf"
	"github.com/dbvault/dbvault/tools/lambdaharness"
)

// The strategies.
const (
	Single      = "single"
	Alternating = "alternating"
	// Declared is declared application users (APP_USERS, MASTER_SECRET_ARN).
	Declared = "declared"
)

// Steps are the rotation steps in the order Secrets Manager runs them.
var Steps = []string{"createSecret", "setSecret", "testSecret", "finishSecret"}

// Options configures Run.
type Options struct {
	// Rotations is how many rotations to run (default 3).
	Rotations int
	// Strategy is Declared (default), Single or Alternating.
	Strategy string
	// MySQLDSN names a real server (an account that can create users and
	// databases); empty means the embedded server.
	MySQLDSN string
	// Bootstrap is a rotator already built for this machine; empty means
	// build it into a temporary directory.
	Bootstrap string
	// Out receives the progress lines; discarded when nil.
	Out io.Writer
	// FunctionLog receives the function's own output (JSON log lines, no
	// secrets); when nil it is kept and its last lines are printed to Out
	// if something fails.
	FunctionLog io.Writer
}

// Row is one rotation in the final table.
type Row struct {
	Rotation int
	// Version is the rotation's version id (its ClientRequestToken).
	Version string
	// Steps is each step's duration as the emulator timed its invocation
	// (zero when the step did not run).
	Steps map[string]time.Duration
	// Total is the RotateSecret call, all four steps included.
	Total time.Duration
	// OK is true when the rotation and every check after it held.
	OK bool
	// Result is "ok" or what failed.
	Result string
}

// Result is a whole run.
type Result struct {
	Strategy string
	Database string
	Rows     []Row
	// AppLogins and AppFailures are the application's logins with
	// AWSCURRENT during the rotations after the first (declared users).
	AppLogins   int
	AppFailures []string
}

// OK reports whether every rotation and check held.
func (r *Result) OK() bool {
	if len(r.Rows) == 0 || len(r.AppFailures) > 0 {
		return false
	}
	for _, row := range r.Rows {
		if !row.OK {
			return false
		}
	}
	return true
}

// WriteTable prints the rotations as a table.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rotation\tversion\tcreateSecret ms\tsetSecret ms\ttestSecret ms\tfinishSecret ms\ttotal ms\tresult\t")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%d\t%s\t", row.Rotation, short(row.Version))
		for _, s := range Steps {
			if d, ok := row.Steps[s]; ok {
				fmt.Fprintf(tw, "%d\t", d.Milliseconds())
			} else {
				fmt.Fprint(tw, "-\t")
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t\n", row.Total.Milliseconds(), row.Result)
	}
	return tw.Flush()
}

func short(v string) string {
	if len(v) > 8 {
		return v[:8]
	}
	return v
}

// syncWriter serialises writes from the progress callbacks.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// Run sets everything up, runs the rotations with their checks, prints a
// progress line per step, and cleans up (users dropped, processes stopped)
// whatever happens, including cancellation of ctx. The error is for a
// failure to set up or an interruption; failed rotations or checks are in
// the Result (Result.OK).
func Run(ctx context.Context, opts Options) (res *Result, err error) {
	if opts.Rotations == 0 {
		opts.Rotations = 3
	}
	if opts.Rotations < 1 || opts.Rotations > 10000 {
		return nil, fmt.Errorf("rotations: %d; expected 1 to 10000", opts.Rotations)
	}
	if opts.Strategy == "" {
		opts.Strategy = Declared
	}
	if opts.Strategy != Single && opts.Strategy != Alternating && opts.Strategy != Declared {
		return nil, fmt.Errorf("strategy %q: expected %s, %s or %s", opts.Strategy, Declared, Single, Alternating)
	}
	out := &syncWriter{w: io.Discard}
	if opts.Out != nil {
		out.w = opts.Out
	}
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	var fnLog syncbuf.Buffer
	fnOut := opts.FunctionLog
	if fnOut == nil {
		fnOut = &fnLog
	}

	// Cleanup runs on a context of its own: after Ctrl-C, ctx is done but
	// the users must still be dropped.
	var cleanups []func(context.Context) error
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		var errs []error
		for i := len(cleanups) - 1; i >= 0; i-- {
			errs = append(errs, cleanups[i](cctx))
		}
		if cerr := errors.Join(errs...); cerr != nil {
			say("cleanup: %v", cerr)
			if err == nil {
				err = fmt.Errorf("cleanup: %w", cerr)
			}
		} else {
			say("cleanup: users dropped, processes stopped")
		}
		if opts.FunctionLog == nil && (err != nil || (res != nil && !res.OK())) {
			printTail(out, fnLog.String(), 20)
		}
	}()

	db, err := OpenDatabase(ctx, opts.MySQLDSN)
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, func(context.Context) error { return db.Close() })
	cleanups = append(cleanups, db.Cleanup)
	say("database: %s", db.Description)
	res = &Result{Strategy: opts.Strategy, Database: db.Description}

	rec := &Recorder{}
	em, err := StartEmulator(smlocal.Options{Rotator: rec})
	if err != nil {
		return res, err
	}
	cleanups = append(cleanups, func(context.Context) error { return em.Close() })
	say("secrets manager emulator: %s", em.URL)

	bootstrap := opts.Bootstrap
	if bootstrap == "" {
		dir, err := os.MkdirTemp("", "dbvault-sandbox-")
		if err != nil {
			return res, err
		}
		cleanups = append(cleanups, func(context.Context) error { return os.RemoveAll(dir) })
		say("building the rotator (%s) ...", RotatorPackage)
		start := time.Now()
		bootstrap, err = BuildRotator(ctx, dir, false)
		if err != nil {
			return res, err
		}
		say("built in %.1f s", time.Since(start).Seconds())
	}
	s, extraEnv, err := setUp(ctx, db, em, opts.Strategy)
	if err != nil {
		return res, err
	}
	if opts.Strategy == Declared {
		say("master secret %s in RDS's managed shape {username, password}; the rotator only reads it", s.masterName)
		say("user %s declared (APP_USERS: %s on database %s) with its secret %s, no password yet: the first rotation creates it",
			s.user, strings.Join(DeclaredPrivileges, ", "), s.dbname, s.name)
	} else {
		say("user %s created with its secret %s (%s)", s.user, s.name, strategyName(opts.Strategy))
	}
	var rieBuild time.Time // when BuildRIE began compiling; zero when it found the binary
	if _, err := lambdaharness.BuildRIE(ctx, func() {
		rieBuild = time.Now()
		say("building the Lambda runtime interface emulator (once per machine, about 10 s) ...")
	}); err != nil {
		return res, err
	}
	if !rieBuild.IsZero() {
		say("built in %.1f s", time.Since(rieBuild).Seconds())
	}
	fn, err := StartFunction(ctx, bootstrap, FunctionEnv(em.URL, extraEnv), fnOut)
	if err != nil {
		return res, err
	}
	cleanups = append(cleanups, func(context.Context) error { return fn.Stop() })
	rec.SetTarget(smlocal.LambdaEndpoint(fn.URL()))
	say("rotator running under the Lambda runtime interface emulator at %s", fn.URL())

	var app *App
	stopApp := func() {
		if app == nil {
			return
		}
		res.AppLogins, res.AppFailures = app.Stop()
		app = nil
		for _, f := range res.AppFailures {
			say("application: FAIL: %s", f)
		}
		say("application: %d logins with AWSCURRENT during the rotations, %d refused", res.AppLogins, len(res.AppFailures))
	}
	defer stopApp()
	for i := 1; i <= opts.Rotations; i++ {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("interrupted before rotation %d: %w", i, err)
		}
		rec.SetOnCall(func(c Call) {
			status := "ok"
			if c.Err != nil {
				status = "FAILED: " + c.Err.Error()
			}
			say("rotation %d/%d: %-12s %s (%d ms)", i, opts.Rotations, c.Step, status, c.Duration.Milliseconds())
		})
		row := s.rotate(ctx, i, rec, say, opts.Rotations)
		res.Rows = append(res.Rows, row)
		if ctx.Err() != nil {
			return res, fmt.Errorf("interrupted during rotation %d: %w", i, ctx.Err())
		}
		if !row.OK {
			// A failed rotation leaves AWSPENDING behind: the next
			// RotateSecret would be refused. Stop here.
			break
		}
		if i == 1 && opts.Strategy == Declared && opts.Rotations > 1 {
			app = StartApp(ctx, s.sm, s.arn)
			say("application: logging in with AWSCURRENT over and over while the next rotations run")
		}
	}
	stopApp()
	return res, nil
}

func strategyName(s string) string {
	switch s {
	case Alternating:
		return "alternating users"
	case Declared:
		return "declared users"
	}
	return "single user"
}

func printTail(w io.Writer, log string, n int) {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 0 || lines[0] == "" {
		return
	}
	fmt.Fprintf(w, "last %d lines of the function's log:\n", len(lines))
	for _, l := range lines {
		fmt.Fprintln(w, "  "+l)
	}
}

// rotation state of one run.
type subject struct {
	sm       *secretsmanager.Client
	db       *Database
	strategy string
	user     string
	name     string // the secret's name
	arn      string
	dbname   string
	// before is the AWSCURRENT value before the rotation being run.
	before Secret
	// The master secret (declared users): its name, ARN and value.
	masterName, masterARN, masterValue string
}

// setUp creates the database, the user (and the master user) and their
// secrets, and returns the function's extra environment (declared users).
func setUp(ctx context.Context, db *Database, em *Emulator, strategy string) (*subject, map[string]string, error) {
	s := &subject{sm: em.Client, db: db, strategy: strategy}
	if strategy == Declared {
		env, err := declaredSetUp(ctx, s)
		return s, env, err
	}
	u, err := SetUpUser(ctx, db, s.sm, strategy, "sandbox/", "sbx_", db.Host, db.Port)
	if err != nil {
		return nil, nil, err
	}
	s.user, s.name, s.arn, s.dbname, s.before = u.Value.Username, u.SecretName, u.SecretARN, u.Value.DBName, u.Value
	return s, nil, nil
}

// rotate runs rotation i (the first one turns rotation on) and its checks.
func (s *subject) rotate(ctx context.Context, i int, rec *Recorder, say func(string, ...any), n int) Row {
	row := Row{Rotation: i, Steps: map[string]time.Duration{}}
	in := &secretsmanager.RotateSecretInput{SecretId: aws.String(s.arn)}
	if i == 1 {
		in.RotationLambdaARN = aws.String(FunctionARN)
		in.RotationRules = &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}
	}
	start := time.Now()
	out, err := s.sm.RotateSecret(ctx, in)
	row.Total = time.Since(start)
	calls := rec.Take()
	for _, c := range calls {
		row.Steps[c.Step] = c.Duration
	}
	fail := func(format string, args ...any) Row {
		row.Result = "FAIL: " + fmt.Sprintf(format, args...)
		say("rotation %d/%d: %s", i, n, row.Result)
		return row
	}
	if err != nil {
		return fail("RotateSecret: %v", err)
	}
	row.Version = aws.ToString(out.VersionId)
	for _, c := range calls {
		if c.Err != nil {
			return fail("%s failed", c.Step)
		}
	}
	if len(calls) != len(Steps) {
		return fail("%d steps ran, want %d", len(calls), len(Steps))
	}
	// The rotation's version must now be AWSCURRENT, with no AWSPENDING
	// left on any other version.
	d, err := s.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(s.arn)})
	if err != nil {
		return fail("DescribeSecret: %v", err)
	}
	for id, stages := range d.VersionIdsToStages {
		if has(stages, "AWSPENDING") && !has(stages, "AWSCURRENT") {
			return fail("version %s is still AWSPENDING", short(id))
		}
	}
	if !has(d.VersionIdsToStages[row.Version], "AWSCURRENT") {
		return fail("version %s is not AWSCURRENT", short(row.Version))
	}
	cur, err := s.read(ctx, "AWSCURRENT")
	if err != nil {
		return fail("%v", err)
	}
	if err := CheckLogin(ctx, cur.Host, cur.Port, cur.Username, cur.Password, cur.DBName); err != nil {
		return fail("AWSCURRENT does not log in: %v", err)
	}
	say("rotation %d/%d: check: AWSCURRENT (version %s) logs in as %s: ok", i, n, short(row.Version), cur.Username)
	prev := s.before
	switch s.strategy {
	case Single:
		if cur.Password == prev.Password {
			return fail("the password did not change")
		}
		err := CheckLogin(ctx, prev.Host, prev.Port, prev.Username, prev.Password, prev.DBName)
		if !errors.Is(err, ErrRejected) {
			return fail("the old password of %s is not refused: %v", prev.Username, err)
		}
		say("rotation %d/%d: check: the old password of %s is refused: ok", i, n, prev.Username)
	case Alternating, Declared:
		if prev.Password == "" {
			// The declared secret's first version: nothing to log in with.
			if cur.Username != prev.Username {
				return fail("the first rotation made %s, not the declared %s", cur.Username, prev.Username)
			}
			say("rotation %d/%d: check: the declared user %s was created by the rotation: ok", i, n, cur.Username)
			break
		}
		if cur.Username == prev.Username {
			return fail("the user did not alternate (still %s)", cur.Username)
		}
		if err := CheckLogin(ctx, prev.Host, prev.Port, prev.Username, prev.Password, prev.DBName); err != nil {
			return fail("the previous user %s no longer logs in: %v", prev.Username, err)
		}
		say("rotation %d/%d: check: the previous user %s (AWSPREVIOUS) still logs in: ok", i, n, prev.Username)
	}
	if s.strategy == Declared {
		if err := s.checkDeclared(ctx, cur); err != nil {
			return fail("%v", err)
		}
		say("rotation %d/%d: check: %s holds exactly %s on %s, and the master secret is unchanged: ok", i, n, cur.Username, strings.Join(DeclaredPrivileges, ", "), cur.DBName)
	}
	s.before = cur
	row.OK, row.Result = true, "ok"
	return row
}

// read returns a stage's value.
func (s *subject) read(ctx context.Context, stage string) (Secret, error) {
	out, err := s.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.arn), VersionStage: aws.String(stage)})
	if err != nil {
		return Secret{}, fmt.Errorf("GetSecretValue %s: %w", stage, err)
	}
	var v Secret
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v); err != nil {
		return Secret{}, fmt.Errorf("the %s value is not the JSON the sandbox wrote", stage)
	}
	return v, nil
}

func has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
