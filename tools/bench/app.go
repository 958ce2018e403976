package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/tools/sandbox"
)

// The application simulation: while a secret is rotated N times, an
// application reads AWSCURRENT through a cache with a TTL (as AWS's secrets
// caching clients do: GetSecretValue again only when the cached copy is at
// least TTL old) and keeps opening a new database connection with it and
// running SELECT 1. One application goroutine per TTL runs against the
// same secret and the same rotations, each with its own cache.
//
// Rotations are separated by a fixed pause, the interval: from the end of
// one RotateSecret to the start of the next. It stands for the real
// rotation period (30 days). With alternating users a version's
// credentials stay valid until the rotation after the one that replaced it
// changes that user's password (its setSecret), so an entry read while it
// was AWSCURRENT keeps logging in for at least the interval after it
// stopped being AWSCURRENT: a TTL shorter than the interval cannot lose a
// login. Declared users alternate the same way (the declared user and its
// clone); their rotation also resets AWSCURRENT's account with its own
// password, which a cached copy of it keeps logging in with. Single user
// changes the password in setSecret, before finishSecret moves AWSCURRENT,
// so even TTL 0 can fail between the two steps, and a cached copy fails
// until it is read again.

// AppDefaults.
const (
	// DefaultAppRotations is how many rotations the application watches
	// per strategy.
	DefaultAppRotations = 100
	// DefaultAppInterval is the pause between rotations.
	DefaultAppInterval = 400 * time.Millisecond
	// maxAppAttempts bounds one application's logins (a run at the
	// defaults makes a few tens of thousands).
	maxAppAttempts = 500_000
)

// AppTTLs are the cache TTLs measured for an interval: 0 (every login
// reads the secret), a quarter of the interval (shorter than it, with a
// margin far above a login's duration) and two and a half intervals
// (longer: one cached entry outlives two rotations).
func AppTTLs(interval time.Duration) []time.Duration {
	return []time.Duration{0, interval / 4, interval * 5 / 2}
}

// attempt is one login: when it started and ended (since the run's start)
// and how it went.
type attempt struct {
	start, end time.Duration
	ok         bool
	// rejected: the server refused the credentials (MySQL error 1045).
	rejected bool
}

// Window is a run of consecutive failed logins: how many, from the start
// of the first to the end of the last.
type Window struct {
	Count      int
	Start, End time.Duration
}

// Duration is the window's length.
func (w Window) Duration() time.Duration { return w.End - w.Start }

// failureWindows returns the runs of consecutive failed attempts, in the
// order given (one application's logins, which are sequential).
func failureWindows(as []attempt) []Window {
	var out []Window
	var cur Window
	in := false
	for _, a := range as {
		if a.ok {
			if in {
				out = append(out, cur)
				in = false
			}
			continue
		}
		if !in {
			cur, in = Window{Start: a.start}, true
		}
		cur.Count++
		cur.End = a.end
	}
	if in {
		out = append(out, cur)
	}
	return out
}

// AppResult is one strategy and TTL.
type AppResult struct {
	Strategy string
	TTL      time.Duration
	// Attempts is logins tried; Failed those that failed, of which
	// Rejected were refused by the server (the rest: any other error).
	Attempts, Failed, Rejected int
	// SecretReads is GetSecretValue calls (cache refreshes); ReadErrors
	// those that failed (each counted as a failed login too).
	SecretReads, ReadErrors int
	// Windows is how many runs of consecutive failures there were;
	// LongestCount is the most failures in one run and LongestDuration the
	// longest run in time (possibly another run).
	Windows         int
	LongestCount    int
	LongestDuration time.Duration
	// Capped is true when the application stopped at its attempt bound
	// before the rotations ended.
	Capped bool
}

func summarise(strategy string, ttl time.Duration, as []attempt) AppResult {
	r := AppResult{Strategy: strategy, TTL: ttl, Attempts: len(as)}
	for _, a := range as {
		if !a.ok {
			r.Failed++
			if a.rejected {
				r.Rejected++
			}
		}
	}
	ws := failureWindows(as)
	r.Windows = len(ws)
	for _, w := range ws {
		r.LongestCount = max(r.LongestCount, w.Count)
		r.LongestDuration = max(r.LongestDuration, w.Duration())
	}
	return r
}

// AppReport is the simulation's figures.
type AppReport struct {
	Rotations int
	Interval  time.Duration
	TTLs      []time.Duration
	// Rotation is the RotateSecret wall time during the simulation, per
	// strategy.
	Rotation map[string]Latency
	Results  []AppResult
}

// Violations lists the results that break the claim: alternating or
// declared users lost a login with a cache TTL shorter than the interval
// between rotations. Single user is expected to lose logins and is not
// judged.
func (a *AppReport) Violations() []string {
	if a == nil {
		return nil
	}
	var out []string
	for _, r := range a.Results {
		if r.Strategy != sandbox.Single && r.TTL < a.Interval && r.Failed > 0 {
			out = append(out, fmt.Sprintf("%s, cache TTL %s (< interval %s): %d of %d logins failed", a.strategyName(r.Strategy), r.TTL, a.Interval, r.Failed, r.Attempts))
		}
	}
	return out
}

// appStrategies are the strategies the simulation runs, in order.
var appStrategies = []string{sandbox.Single, sandbox.Alternating, sandbox.Declared}

// checkAppOptions fills in the defaults and refuses bad values.
func checkAppOptions(rotations int, interval time.Duration) (int, time.Duration, error) {
	if rotations == 0 {
		rotations = DefaultAppRotations
	}
	if rotations < 1 || rotations > 5000 {
		return 0, 0, fmt.Errorf("application rotations: %d; expected 1 to 5000", rotations)
	}
	if interval == 0 {
		interval = DefaultAppInterval
	}
	if interval < 40*time.Millisecond || interval > time.Minute {
		return 0, 0, fmt.Errorf("application interval: %s; expected 40ms to 1m", interval)
	}
	return rotations, interval, nil
}

// checkAppStrategies refuses a strategy the simulation does not know.
func checkAppStrategies(strategies []string) error {
	for _, s := range strategies {
		if !slices.Contains(appStrategies, s) {
			return fmt.Errorf("application strategy %q: expected %s", s, strings.Join(appStrategies, ", "))
		}
	}
	return nil
}

// RunApp runs the application simulation alone (every strategy, or
// opts.AppStrategies), with opts.AppRotations, opts.AppInterval,
// opts.MySQLDSN and opts.Bootstrap.
func RunApp(ctx context.Context, opts Options) (*AppReport, error) {
	n, interval, err := checkAppOptions(opts.AppRotations, opts.AppInterval)
	if err != nil {
		return nil, err
	}
	if err := checkAppStrategies(opts.AppStrategies); err != nil {
		return nil, err
	}
	b, err := setUp(ctx, dsnOf(opts.MySQLDSN), opts.Bootstrap, sayTo(opts))
	if err != nil {
		return nil, err
	}
	defer b.close(context.WithoutCancel(ctx))
	return b.simulateApps(ctx, opts.AppStrategies, n, interval, sayTo(opts))
}

func (b *bench) simulateApps(ctx context.Context, strategies []string, n int, interval time.Duration, say func(string, ...any)) (*AppReport, error) {
	rep := &AppReport{Rotations: n, Interval: interval, TTLs: AppTTLs(interval), Rotation: map[string]Latency{}}
	if len(strategies) == 0 {
		strategies = appStrategies
	}
	for _, strategy := range strategies {
		say("%s: application simulation, %d rotations %s apart, cache TTLs %v ...", strategy, n, interval, rep.TTLs)
		rs, lat, err := b.simulateApp(ctx, strategy, n, interval, rep.TTLs)
		if err != nil {
			return rep, fmt.Errorf("%s application simulation: %w", strategy, err)
		}
		rep.Rotation[strategy] = lat
		rep.Results = append(rep.Results, rs...)
		for _, r := range rs {
			say("%s: TTL %s: %d logins, %d failed, longest failure window %d logins / %s", strategy, r.TTL, r.Attempts, r.Failed, r.LongestCount, ms(r.LongestDuration))
		}
	}
	return rep, nil
}

// simulateApp rotates a fresh secret n times, interval apart, while one
// application per TTL logs in with it.
func (b *bench) simulateApp(ctx context.Context, strategy string, n int, interval time.Duration, ttls []time.Duration) ([]AppResult, Latency, error) {
	var arn string
	var err error
	if strategy == sandbox.Declared {
		var restore func()
		arn, restore, err = b.newDeclared(ctx)
		if restore != nil {
			defer restore()
		}
	} else {
		arn, err = b.newSecret(ctx, strategy, b.DB.Host, b.DB.Port)
	}
	if err != nil {
		return nil, Latency{}, err
	}
	sm := sandbox.NewClient(b.Emulator.URL, 3)
	appCtx, stop := context.WithCancel(ctx)
	defer stop()
	t0 := time.Now()
	type out struct {
		as           []attempt
		reads, rerrs int
		capped       bool
	}
	outs := make([]out, len(ttls))
	ready := make(chan struct{}, len(ttls))
	var wg sync.WaitGroup
	for i, ttl := range ttls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := &app{sm: sm, arn: arn, ttl: ttl, t0: t0}
			outs[i].capped = a.run(appCtx, maxAppAttempts, ready)
			outs[i].as, outs[i].reads, outs[i].rerrs = a.attempts, a.reads, a.readErrors
		}()
	}
	// Rotate only once every application has logged in once (or given up).
	for range ttls {
		select {
		case <-ready:
		case <-ctx.Done():
			stop()
			wg.Wait()
			return nil, Latency{}, ctx.Err()
		}
	}
	pause := func() error {
		t := time.NewTimer(interval)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var durations []time.Duration
	var rerr error
	for range n {
		if rerr = pause(); rerr != nil {
			break
		}
		d, _, err := b.rotate(ctx, arn)
		if err != nil {
			rerr = err
			break
		}
		durations = append(durations, d)
	}
	// The last rotation gets its interval too, as every other one did.
	if rerr == nil {
		rerr = pause()
	}
	stop()
	wg.Wait()
	if rerr != nil {
		return nil, Latency{}, rerr
	}
	var res []AppResult
	for i, ttl := range ttls {
		r := summarise(strategy, ttl, outs[i].as)
		r.SecretReads, r.ReadErrors, r.Capped = outs[i].reads, outs[i].rerrs, outs[i].capped
		res = append(res, r)
	}
	return res, latency(durations), nil
}

// app is one simulated application: a secret cache with a TTL and a login
// loop.
type app struct {
	sm  *secretsmanager.Client
	arn string
	ttl time.Duration
	t0  time.Time

	cached   sandbox.Secret
	readAt   time.Time
	haveRead bool

	attempts          []attempt
	reads, readErrors int
}

// current returns AWSCURRENT from the cache, reading it again when the
// cached copy is at least ttl old (always, for ttl 0). The copy's age
// counts from when its read was sent, so it is never younger than the
// value.
func (a *app) current(ctx context.Context) (sandbox.Secret, error) {
	now := time.Now()
	if a.haveRead && now.Sub(a.readAt) < a.ttl {
		return a.cached, nil
	}
	a.reads++
	out, err := a.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(a.arn), VersionStage: aws.String("AWSCURRENT")})
	if err != nil {
		return sandbox.Secret{}, err
	}
	var v sandbox.Secret
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v); err != nil {
		return sandbox.Secret{}, fmt.Errorf("secret value: %w", err)
	}
	a.cached, a.readAt, a.haveRead = v, now, true
	return v, nil
}

// run logs in until ctx ends or after max attempts (then it returns true).
// It sends on ready after its first attempt (or when it stops before one).
func (a *app) run(ctx context.Context, max int, ready chan<- struct{}) (capped bool) {
	signalled := false
	signal := func() {
		if !signalled {
			signalled = true
			ready <- struct{}{}
		}
	}
	defer signal()
	for len(a.attempts) < max {
		if ctx.Err() != nil {
			return false
		}
		start := time.Since(a.t0)
		v, err := a.current(ctx)
		if err == nil {
			err = sandbox.CheckLogin(ctx, v.Host, v.Port, v.Username, v.Password, v.DBName)
		} else if ctx.Err() == nil {
			a.readErrors++
		}
		if err != nil && ctx.Err() != nil {
			return false // stopped mid-attempt: not counted
		}
		a.attempts = append(a.attempts, attempt{start: start, end: time.Since(a.t0), ok: err == nil, rejected: errors.Is(err, sandbox.ErrRejected)})
		signal()
	}
	return true
}

func ttlText(d time.Duration) string {
	if d == 0 {
		return "0 s (every login reads)"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}

func (a *AppReport) strategyName(s string) string {
	switch s {
	case sandbox.Alternating:
		return "alternating users"
	case sandbox.Declared:
		return "declared users"
	}
	return "single user"
}

// markdown writes the simulation's section of docs/BENCHMARKS.md.
func (a *AppReport) markdown(w func(string, ...any), load string, cores int) {
	w("## Application logins during rotation")
	w("")
	w("An application reads AWSCURRENT through a cache with a TTL (as AWS's secrets caching clients do: GetSecretValue again only when the cached copy is at least the TTL old; the age counts from when the read was sent) and, in a loop, opens a new database connection with it and runs `SELECT 1`. One application (one goroutine, its own cache) per TTL runs against the same secret while it is rotated %d times per strategy through the Lambda RIE, with a pause of %s between the end of one rotation and the start of the next (the *interval*); the applications start before the first rotation and stop one interval after the last. A login fails when the connection or the query fails; *refused* is the server's access denied (MySQL error 1045). A failure window is a run of consecutive failed logins of one application, from the start of the first to the end of the last; the two longest figures are maxima over the windows and may come from different windows.", a.Rotations, ttlText(a.Interval))
	w("")
	w("| strategy | cache TTL | logins attempted | failed (refused) | failure windows | longest window, logins | longest window, duration | GetSecretValue reads |")
	w("| --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range a.Results {
		capped := ""
		if r.Capped {
			capped = fmt.Sprintf(" (stopped at the bound of %d)", maxAppAttempts)
		}
		w("| %s | %s | %d%s | %d (%d) | %d | %d | %s | %d |", a.strategyName(r.Strategy), ttlText(r.TTL), r.Attempts, capped, r.Failed, r.Rejected, r.Windows, r.LongestCount, ms(r.LongestDuration), r.SecretReads)
	}
	w("")
	var lat []string
	for _, s := range appStrategies {
		if l, ok := a.Rotation[s]; ok {
			lat = append(lat, fmt.Sprintf("%s p50 %s, max %s", a.strategyName(s), ms(l.P50), ms(l.Max)))
		}
	}
	w("Rotations during the simulation (RotateSecret wall time, the applications logging in meanwhile): %s. Load average at the start of the run: %s%s; the login loops themselves load the cores too, so these rotations are slower than the timed ones above. The load moves the counts of logins (how many fit in the run) and the windows' lengths; it is not expected to change which rows have failures (the reasons are below).", strings.Join(lat, "; "), load, busyNote(load, cores))
	w("")
	if v := a.Violations(); len(v) > 0 {
		w("**Check FAILED**: alternating or declared users lost logins with a cache TTL shorter than the interval (`go run mage.go dev:bench` exits non-zero):")
		w("")
		for _, s := range v {
			w("- %s", s)
		}
	} else {
		w("**Check passed**: %s lost no login with any cache TTL shorter than the interval (0 s and %s); the bench exits non-zero if it does.", a.judged(), ttlText(a.TTLs[1]))
	}
	w("")
	w("What the rows show, and how they map to the real 30-day rotation period:")
	w("")
	w("- **Alternating users.** Each rotation sets a new password on the *other* user and then makes it AWSCURRENT; the user that was AWSCURRENT keeps its password until the next rotation changes it. So a copy of AWSCURRENT read just before a rotation's finishSecret keeps logging in until the next rotation's setSecret, at least one interval later. With a TTL shorter than the interval at most one rotation happens while an entry is cached, and the previous user is still valid when it does: no login can fail, and none did. With a TTL longer than the interval an entry can outlive two rotations, and then its user's password has been changed: those logins fail until the cache reads again. In production the interval is the rotation period, 30 days, and the caching clients' default TTL is 1 hour (the default refresh interval of AWS's Python, Java, Go and .NET caching clients), far shorter: alternating users loses no login. What shortens the interval is a rotation started by hand soon after another (RotateSecret, or a retried failed rotation): leave at least the applications' TTL between two rotations.")
	if _, ok := a.Rotation[sandbox.Declared]; ok {
		w("- **Declared users** (the deployed model: the user declared in the function's APP_USERS, its secret created without a password, the first rotation creating the user with exactly the declared privileges, later rotations alternating it with its clone) behave as alternating users for an application: each rotation gives the *other* account the new password, and also resets AWSCURRENT's account with AWSCURRENT's own password (undoing a password anyone else set on it), which changes nothing for a copy of AWSCURRENT that is cached. The applications start after the first rotation, the one that creates the user (before it, the secret holds no password to log in with); the %d rotations watched come after it.", a.Rotations)
	}
	w("- **Single user.** setSecret changes the one user's password before finishSecret makes the new version AWSCURRENT, so even with TTL 0 the logins between those two steps (testSecret's own login and the stage move; the TTL 0 row's longest window) fail; with a TTL, every cached copy read before finishSecret fails from setSecret until the cache reads again, up to the TTL after the rotation. When that is longer than the interval the windows of consecutive rotations run together (fewer windows than rotations). None of this depends on the interval: with the default 1-hour TTL an application can lose up to an hour of logins after every rotation (a client that reads the secret again on an authentication failure, as AWS's Secrets Manager JDBC driver does on MySQL error 1045, turns that into one refused attempt that it retries). This is why application users should use alternating users ([alternating-users.md](alternating-users.md)).")
	w("- **The bench's interval** (%s) replaces the 30 days so that %d rotations fit in a run; the TTLs are chosen relative to it: 0, a quarter of it (the margin, three quarters of the interval, is far longer than a login, so a login slowed by the machine's load still ends long before the next rotation's setSecret) and two and a half times it (longer than the interval plus a rotation: an entry outlives two rotations). Rotations back to back with no pause would leave only the next rotation's createSecret step between one rotation's end and the next setSecret, shorter than any useful TTL: the interval is the quiet time between rotations that the real schedule has in abundance.", ttlText(a.Interval), a.Rotations)
}

// Text is the simulation's console report.
func (a *AppReport) Text() string {
	var b strings.Builder
	a.text(func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) })
	return b.String()
}

// text writes the console lines.
func (a *AppReport) text(w func(string, ...any)) {
	w("application simulation: %d rotations per strategy, %s apart", a.Rotations, a.Interval)
	for _, r := range a.Results {
		w("  %-11s TTL %-6s %7d logins, %6d failed (%d refused), %d windows, longest %d logins / %s", r.Strategy, r.TTL, r.Attempts, r.Failed, r.Rejected, r.Windows, r.LongestCount, ms(r.LongestDuration))
	}
	if v := a.Violations(); len(v) > 0 {
		for _, s := range v {
			w("  CHECK FAILED: %s", s)
		}
	} else {
		w("  check passed: %s lost no login with a cache TTL shorter than the interval", a.judged())
	}
}

// judged names the strategies that Violations judges, of those that ran.
func (a *AppReport) judged() string {
	var names []string
	for _, s := range appStrategies {
		if _, ok := a.Rotation[s]; ok && s != sandbox.Single {
			names = append(names, a.strategyName(s))
		}
	}
	if len(names) == 0 {
		return "no judged strategy"
	}
	return strings.Join(names, " and ")
}

// busyNote says that other work shared the machine when the 1-minute load
// average was above the core count.
func busyNote(load string, cores int) string {
	f := strings.Fields(load)
	if len(f) == 0 {
		return ""
	}
	l, err := strconv.ParseFloat(f[0], 64)
	if err != nil || cores < 1 || l <= float64(cores) {
		return ""
	}
	return fmt.Sprintf(" (above the %d cores: other work, such as other builds, shared the machine)", cores)
}
