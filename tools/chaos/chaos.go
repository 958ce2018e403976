// Package chaos runs many rotations of the real rotator while injecting
// faults chosen by a seeded random generator, and checks after every
// rotation, every step and every recovery, directly against the database
// and the Secrets Manager emulator, that rotation never locks anyone out:
//
//   - at least one stored version (AWSCURRENT, or AWSPENDING while a
//     rotation is unfinished) logs in;
//   - after a completed rotation or a recovery, AWSCURRENT logs in;
//   - at most one version carries AWSPENDING;
//   - no version is lost or overwritten (a version's value never changes,
//     and no version disappears while the secret has fewer than the 100
//     versions Secrets Manager keeps);
//   - alternating and declared users: AWSCURRENT's user keeps working
//     during a rotation, and the previous user (AWSPREVIOUS) still logs in
//     after it;
//   - declared users, after an insider step (see insider.go): the next
//     rotation completes, and after it AWSCURRENT logs in and the
//     insider's password logs in to neither account.
//
// The strategies are single user, alternating users (a master secret
// named in the secret) and declared users (the function's APP_USERS,
// MASTER_SECRET_ARN and DB_HOST declare the user; its secret starts
// without a password and the first rotation creates the user).
//
// The faults: the function process exits at a named checkpoint (a build of
// the rotator with fail points) or is killed (SIGKILL through the harness)
// at a chosen Secrets Manager request; the database stops, hangs or drops
// every connection (a fault proxy between the rotator and the database);
// the emulator answers with throttling, InternalServiceError or a dropped
// connection; two RotateSecret calls at once.
//
// Recovery is what Secrets Manager does after a failed rotation: it
// retries the rotation with the same ClientRequestToken (RotateSecret
// refuses a new one while AWSPENDING is on another version than
// AWSCURRENT: "A previous rotation isn't complete. That rotation will be
// reattempted."). The emulator runs a rotation once, so the retry is made
// here: the four steps invoked again, in order, with the same token, as the
// service's retry would.
package chaos

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/faultproxy"
	"github.com/dbvault/dbvault/functions/rotator/smlocal"
	"github.com/dbvault/dbvault/functions/rotator/syncbuf"
	"github.com/dbvault/dbvault/tools/lambdaharness"
	"github.com/dbvault/dbvault/tools/sandbox"
)

// Options configures Run.
type Options struct {
	// Seed chooses the faults; the report prints it so a run can be
	// repeated.
	Seed uint64
	// Rotations is the number of rotations per strategy (default 50, at
	// most MaxRotations). A secret takes at most perSubject of them; a
	// strategy with more rotates several secrets in turn.
	Rotations int
	// Strategies are any of "single", "alternating" and "declared"
	// (default all three, in that order).
	Strategies []string
	// MySQLDSN names a real server; empty means the embedded one.
	MySQLDSN string
	// Bootstrap is a rotator built with the failpoints tag; empty means
	// build it.
	Bootstrap string
	// Out receives one line per rotation and the report; discarded when nil.
	Out io.Writer
	// Verbose adds a line per step.
	Verbose bool
}

// Report is the outcome of a run.
type Report struct {
	Seed      uint64
	Database  string
	Rotations int
	// ByStrategy counts the rotations run per strategy.
	ByStrategy map[string]int
	// Insider counts the insider steps (declared users) by the stage whose
	// credential the insider used: AWSCURRENT or AWSPREVIOUS.
	Insider map[string]int
	// Faults counts the faults injected, by kind (Kinds).
	Faults map[string]int
	// Failed counts, by kind, the rotations that the fault made fail.
	Failed map[string]int
	// Recoveries is the number of retried rotations (same token).
	Recoveries int
	// Checks is the number of invariant checks made.
	Checks int
	// Violations lists every invariant that did not hold.
	Violations []string
	Duration   time.Duration
}

// OK reports whether no invariant was violated.
func (r *Report) OK() bool { return len(r.Violations) == 0 && r.Rotations > 0 }

// Write prints the report.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "chaos report (seed %d, repeat with -seed %d)\n", r.Seed, r.Seed)
	fmt.Fprintf(w, "  database:             %s\n", r.Database)
	fmt.Fprintf(w, "  rotations run:        %d", r.Rotations)
	var per []string
	for _, s := range allStrategies {
		if n := r.ByStrategy[s]; n > 0 {
			per = append(per, fmt.Sprintf("%s %d", s, n))
		}
	}
	if len(per) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(per, ", "))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  faults injected:\n")
	for _, k := range Kinds {
		if k == FaultNone {
			continue
		}
		fmt.Fprintf(w, "    %-26s %3d  (made the rotation fail: %d)\n", k, r.Faults[k], r.Failed[k])
	}
	fmt.Fprintf(w, "    %-26s %3d\n", "(no fault)", r.Faults[FaultNone])
	fmt.Fprintf(w, "  insider steps:        %d (AWSCURRENT's credential %d, AWSPREVIOUS's %d)\n", r.Insider[stageCurrent]+r.Insider[stagePrevious], r.Insider[stageCurrent], r.Insider[stagePrevious])
	fmt.Fprintf(w, "  recoveries:           %d\n", r.Recoveries)
	fmt.Fprintf(w, "  invariant checks:     %d\n", r.Checks)
	fmt.Fprintf(w, "  invariant violations: %d\n", len(r.Violations))
	for _, v := range r.Violations {
		fmt.Fprintf(w, "    - %s\n", v)
	}
	fmt.Fprintf(w, "  duration:             %.1f s\n", r.Duration.Seconds())
}

// Run runs the rotations with faults and returns the report. The error is
// for a failure to set up or an interruption; violations are in the report.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Rotations == 0 {
		opts.Rotations = 50
	}
	if opts.Rotations < 1 || opts.Rotations > MaxRotations {
		return nil, fmt.Errorf("rotations: %d per strategy; expected 1 to %d", opts.Rotations, MaxRotations)
	}
	if len(opts.Strategies) == 0 {
		opts.Strategies = allStrategies
	}
	for _, s := range opts.Strategies {
		if !slices.Contains(allStrategies, s) {
			return nil, fmt.Errorf("strategy %q: expected %s", s, strings.Join(allStrategies, ", "))
		}
	}
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	start := time.Now()
	rep := &Report{Seed: opts.Seed, ByStrategy: map[string]int{}, Insider: map[string]int{}, Faults: map[string]int{}, Failed: map[string]int{}}
	defer func() { rep.Duration = time.Since(start) }()
	rng, insiderRng := newRand(opts.Seed), newInsiderRand(opts.Seed)

	env, err := setUp(ctx, opts, out)
	if err != nil {
		return nil, err
	}
	defer env.close(context.WithoutCancel(ctx))
	rep.Database = env.DB.Description
	fmt.Fprintf(out, "chaos: seed %d, %d rotations per strategy (%s), database %s\n", opts.Seed, opts.Rotations, strings.Join(opts.Strategies, ", "), env.DB.Description)

	for _, strategy := range opts.Strategies {
		subs := make([]*subject, subjectsFor(opts.Rotations))
		for k := range subs {
			if subs[k], err = env.newSubject(ctx, strategy, k); err != nil {
				return rep, err
			}
		}
		for i := 1; i <= opts.Rotations; i++ {
			if err := ctx.Err(); err != nil {
				return rep, fmt.Errorf("interrupted: %w", err)
			}
			sub := subs[(i-1)%len(subs)]
			if strategy == sandbox.Declared {
				if err := env.maybeInsider(ctx, insiderRng, sub, i, rep); err != nil {
					return rep, err
				}
			}
			missing, err := env.pendingUserMissing(ctx, sub)
			if err != nil {
				return rep, err
			}
			p := pick(rng, strategy, missing)
			rep.Faults[p.Kind]++
			rep.Rotations++
			rep.ByStrategy[strategy]++
			failed, recovered, err := env.rotation(ctx, sub, p, i, rep)
			if err != nil {
				return rep, fmt.Errorf("%s rotation %d (%s): %w", strategy, i, p, err)
			}
			line := "ok"
			if failed {
				rep.Failed[p.Kind]++
				line = "failed"
			}
			if recovered {
				rep.Recoveries++
				line += ", recovered"
			}
			fmt.Fprintf(out, "%-11s rotation %2d/%d: %-70s %s\n", strategy, i, opts.Rotations, p.String(), line)
		}
		for _, sub := range subs {
			env.finalCheck(ctx, sub, rep)
		}
	}
	return rep, nil
}

// allStrategies are the strategies a run knows, in the order it runs them.
var allStrategies = []string{sandbox.Single, sandbox.Alternating, sandbox.Declared}

// perSubject is the most rotations one secret takes. Secrets Manager keeps
// 100 versions of a secret and prunes the oldest unlabelled ones beyond
// that (smlocal does the same); a secret that starts with one version and
// gets one per rotation stays under it, so "no version lost" still means
// what it says: any version missing was lost, not pruned.
const perSubject = 95

// MaxRotations is the most rotations a run takes per strategy (ten
// secrets' worth).
const MaxRotations = 10 * perSubject

// subjectsFor is how many secrets n rotations need: rotation i goes to
// secret (i-1) mod subjectsFor(n), so none takes more than perSubject.
func subjectsFor(n int) int { return (n + perSubject - 1) / perSubject }

// newRand is the fault generator for a seed.
func newRand(seed uint64) *rand.Rand {
	// #nosec G404 -- the generator chooses faults and must repeat from a seed; it makes no secret
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// env is everything a run uses.
type env struct {
	*sandbox.Rig
	opts  Options
	out   io.Writer
	check *secretsmanager.Client // the checker's client (no retries)
	// fnLog keeps the function's output, the first 4 MiB of it: enough
	// for a post-mortem.
	fnLog *syncbuf.Buffer
	// declared is the declared-users world (nil when the run has no
	// declared strategy) and declEnv the function environment that
	// declares its users: every function process gets it, so that the
	// functions started for fail points rotate them too.
	declared *sandbox.DeclaredWorld
	declEnv  map[string]string

	mu sync.Mutex
	// fn is the function without a fail point; nil after it was killed.
	fn *lambdaharness.Function
	// target is the function that steps go to.
	target *lambdaharness.Function
	// armed is the fault active during the current step.
	armed *plan
	// smRequests counts Secrets Manager requests since the step started.
	smRequests int
	killed     bool
	// onStep is called after each step with faults disarmed.
	onStep func(ev events.SecretsManagerSecretRotationEvent, err error)
	// stepPlan is the plan of the rotation in progress.
	stepPlan *plan
}

func setUp(ctx context.Context, opts Options, out io.Writer) (_ *env, err error) {
	e := &env{opts: opts, out: out, fnLog: &syncbuf.Buffer{Max: 4 << 20}}
	if e.Rig, err = sandbox.OpenRig(ctx, opts.MySQLDSN, smlocal.InvokerFunc(e.invoke)); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			e.close(context.WithoutCancel(ctx))
		}
	}()
	e.Emulator.Server.SetFaultInjector(e.inject)
	if slices.Contains(opts.Strategies, sandbox.Declared) {
		// The function's environment declares the users, so they exist
		// before the first function starts. The secrets name the fault
		// proxy, and so does DB_HOST (the cluster's endpoint).
		host, port := e.ProxyAt()
		e.declared, err = sandbox.SetUpDeclared(ctx, e.DB, e.Emulator.Client, "chaos/", "chd_", host, port, subjectsFor(opts.Rotations))
		if err != nil {
			return nil, err
		}
		if e.declEnv, err = e.declared.Env(); err != nil {
			return nil, err
		}
	}
	// The checker's calls are reads, made while no fault is armed. Its
	// client retries (three attempts) because net/http can lose a large
	// answer to a race with the request writer on a reused connection
	// ("use of closed network connection" while reading a 200); that is the
	// checker's transport, not the rotator, and must not count as a
	// violation.
	e.check = sandbox.NewClient(e.Emulator.URL, 3)
	if opts.Bootstrap == "" {
		fmt.Fprintf(out, "chaos: building the rotator with fail points ...\n")
	}
	if err = e.SetBootstrap(ctx, opts.Bootstrap, true); err != nil {
		return nil, err
	}
	if err = e.ensureFunction(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *env) close(ctx context.Context) {
	e.mu.Lock()
	fn, target := e.fn, e.target
	e.mu.Unlock()
	if fn != nil {
		_ = fn.Stop()
	}
	if target != nil && target != fn {
		_ = target.Stop()
	}
	if err := e.Rig.Close(ctx); err != nil {
		fmt.Fprintf(e.out, "chaos: cleanup: %v\n", err)
	}
}

// functionEnv is the rotator's environment: the emulator, TLS off, and
// short database timeouts so that a hung database fails a step in seconds.
func (e *env) functionEnv(failpoint string) map[string]string {
	m := sandbox.FunctionEnv(e.Emulator.URL, e.declEnv)
	m["DB_CONNECT_TIMEOUT"] = "1s"
	m["DB_STATEMENT_TIMEOUT"] = "2s"
	if failpoint != "" {
		m["ROTATOR_FAILPOINT"] = failpoint
	}
	return m
}

// ensureFunction starts the function without a fail point if it is not
// running (first use, or after a kill), and makes it the target.
func (e *env) ensureFunction(ctx context.Context) error {
	e.mu.Lock()
	fn := e.fn
	e.mu.Unlock()
	if fn == nil {
		var err error
		fn, err = sandbox.StartFunction(ctx, e.Bootstrap, e.functionEnv(""), e.fnLog)
		if err != nil {
			return err
		}
	}
	e.mu.Lock()
	e.fn, e.target = fn, fn
	e.mu.Unlock()
	return nil
}

// invoke is the emulator's Invoker: it arms the rotation's fault for the
// step, sends the step to the target function, disarms, and lets the
// checker look at the state between steps.
func (e *env) invoke(ctx context.Context, arn string, ev events.SecretsManagerSecretRotationEvent) error {
	e.mu.Lock()
	target, p := e.target, e.stepPlan
	e.smRequests = 0
	if p != nil && p.Step == ev.Step {
		e.armed = p
	}
	armed := e.armed
	e.mu.Unlock()
	if target == nil {
		return errors.New("no function is running (killed)")
	}
	if armed != nil {
		if err := e.armDB(armed.Kind); err != nil {
			return err
		}
	}
	err := smlocal.LambdaEndpoint(target.URL()).Invoke(ctx, arn, ev)
	e.mu.Lock()
	e.armed = nil
	on := e.onStep
	e.mu.Unlock()
	if perr := e.Proxy.SetMode(faultproxy.Pass); perr != nil {
		return errors.Join(err, perr)
	}
	if on != nil {
		on(ev, err)
	}
	if e.opts.Verbose {
		status := "ok"
		if err != nil {
			status = "failed: " + firstLine(err.Error())
		}
		fmt.Fprintf(e.out, "    %s %s %s\n", ev.Step, shortID(ev.ClientRequestToken), status)
	}
	return err
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

func (e *env) armDB(kind string) error {
	switch kind {
	case FaultDBStopped:
		return e.Proxy.SetMode(faultproxy.Refuse)
	case FaultDBHung:
		return e.Proxy.SetMode(faultproxy.Hang)
	case FaultDBRestarted:
		return e.Proxy.SetMode(faultproxy.Drop)
	}
	return nil
}

// inject is the emulator's fault injector: Secrets Manager faults and
// kills, on the chosen requests of the armed step.
func (e *env) inject(op string) *smlocal.Fault {
	e.mu.Lock()
	p := e.armed
	if p == nil {
		e.mu.Unlock()
		return nil
	}
	e.smRequests++
	n := e.smRequests
	fn := e.fn
	e.mu.Unlock()
	switch {
	case p.Kind == FaultKill && n == p.Nth && fn != nil:
		// SIGKILL to the RIE and the function before answering: the
		// process dies between two Secrets Manager calls. The function is
		// forgotten first, so that nothing uses it once the step returns.
		e.mu.Lock()
		if e.fn == fn {
			e.fn = nil
		}
		if e.target == fn {
			e.target = nil
		}
		e.killed = true
		e.mu.Unlock()
		_ = fn.Kill()
		return &smlocal.Fault{DropConnection: true}
	case isSMFault(p.Kind) && n >= p.Nth && n < p.Nth+p.Times:
		switch p.Kind {
		case FaultThrottle:
			return &smlocal.Fault{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"}
		case FaultInternal:
			return &smlocal.Fault{Status: 500, Code: "InternalServiceError", Message: "injected by chaos"}
		default:
			return &smlocal.Fault{DropConnection: true}
		}
	}
	return nil
}

// subject is one secret under rotation.
type subject struct {
	strategy string
	arn      string
	// tamper is the insider step made since the subject's last completed
	// rotation; nil if none.
	tamper *tamper
	// ledger maps each version id seen to a hash of its value: a value
	// that changes is an overwritten version.
	ledger map[string][32]byte
	// seen lists the version ids in the order they were first seen.
	seen []string
}

// newSubject makes the k-th secret of a strategy: for declared users the
// k-th declared secret, for the others a new user and secret.
func (e *env) newSubject(ctx context.Context, strategy string, k int) (*subject, error) {
	if strategy == sandbox.Declared {
		return e.turnOn(ctx, strategy, e.declared.Users[k].SecretARN)
	}
	host, port := e.ProxyAt()
	u, err := sandbox.SetUpUser(ctx, e.DB, e.Emulator.Client, strategy, "chaos/", "chx_", host, port)
	if err != nil {
		return nil, err
	}
	return e.turnOn(ctx, strategy, u.SecretARN)
}

// turnOn turns rotation on for a secret and makes it a subject.
func (e *env) turnOn(ctx context.Context, strategy, arn string) (*subject, error) {
	if err := sandbox.TurnOn(ctx, e.Emulator.Client, arn); err != nil {
		return nil, err
	}
	return &subject{strategy: strategy, arn: arn, ledger: map[string][32]byte{}}, nil
}

// pendingUserMissing reports whether the next rotation of an alternating
// or declared subject creates its pending user (the user AWSCURRENT does
// not name, of the pair user and user_clone; for a declared secret not yet
// provisioned, the declared user itself), so that the fail points passed
// only while creating it are drawn only when they can fire.
func (e *env) pendingUserMissing(ctx context.Context, s *subject) (bool, error) {
	if s.strategy == sandbox.Single {
		return false, nil
	}
	st := e.describe(ctx, s)
	cur, err := e.value(ctx, s, st.current)
	if err != nil {
		return false, fmt.Errorf("read AWSCURRENT: %w", err)
	}
	pending := cur.Username + "_clone"
	if base, ok := strings.CutSuffix(cur.Username, "_clone"); ok {
		pending = base
	}
	if cur.Password == "" {
		pending = cur.Username // unprovisioned: the first rotation creates it
	}
	var n int
	if err := e.DB.Admin().QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = ?", pending).Scan(&n); err != nil {
		return false, fmt.Errorf("look up the pending user: %w", err)
	}
	return n == 0, nil
}

// rotation runs one rotation with its fault, checks the invariants after
// each step and after the rotation, and recovers a failed rotation.
func (e *env) rotation(ctx context.Context, s *subject, p plan, i int, rep *Report) (failed, recovered bool, err error) {
	after := ""
	if t := s.tamper; t != nil {
		after = fmt.Sprintf(", after the insider changed the password of %s's account %s", t.stage, t.user)
	}
	violate := func(phase, format string, args ...any) {
		rep.Violations = append(rep.Violations, fmt.Sprintf("%s rotation %d (%s%s), %s: %s", s.strategy, i, p, after, phase, fmt.Sprintf(format, args...)))
	}
	e.mu.Lock()
	e.killed = false
	e.onStep = func(ev events.SecretsManagerSecretRotationEvent, _ error) {
		rep.Checks++
		for _, v := range e.invariants(ctx, s, false) {
			violate("after "+ev.Step, "%s", v)
		}
	}
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.onStep, e.stepPlan, e.armed = nil, nil, nil
		e.mu.Unlock()
	}()

	// The fault's set-up.
	var fpFn *lambdaharness.Function
	switch {
	case p.Kind == FaultFailpoint:
		fpFn, err = sandbox.StartFunction(ctx, e.Bootstrap, e.functionEnv(p.Failpoint), e.fnLog)
		if err != nil {
			return false, false, err
		}
		e.mu.Lock()
		e.target = fpFn
		e.mu.Unlock()
	case p.Kind != FaultNone && p.Kind != FaultConcurrent:
		e.mu.Lock()
		pp := p
		e.stepPlan = &pp
		e.mu.Unlock()
	}

	before := e.describe(ctx, s)
	if p.Kind == FaultConcurrent {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = e.Emulator.Client.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(s.arn)})
			}()
		}
		wg.Wait()
		// One call may be refused ("A previous rotation isn't complete"):
		// that is the service's answer to a second rotation, not a failure.
		for _, err := range errs {
			if err != nil && !strings.Contains(err.Error(), "InvalidRequestException") {
				return false, false, fmt.Errorf("RotateSecret: %w", err)
			}
		}
	} else if _, err := e.Emulator.Client.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(s.arn)}); err != nil {
		// Refused while an earlier rotation of this secret is stuck: the
		// service would reattempt that one, and so does the recovery below.
		if !strings.Contains(err.Error(), "InvalidRequestException") {
			return false, false, fmt.Errorf("RotateSecret: %w", err)
		}
		violate("RotateSecret", "refused, an earlier rotation is stuck: %s", firstLine(err.Error()))
	}

	// Undo the fault: back to the function without a fail point (started
	// again if it was killed), database reachable, no Secrets Manager fault.
	e.mu.Lock()
	e.onStep, e.stepPlan, e.armed = nil, nil, nil
	e.mu.Unlock()
	if fpFn != nil {
		_ = fpFn.Stop()
	}
	if err := e.Proxy.SetMode(faultproxy.Pass); err != nil {
		return false, false, err
	}
	if err := e.ensureFunction(ctx); err != nil {
		return false, false, err
	}

	rep.Checks++
	for _, v := range e.invariants(ctx, s, false) {
		violate("after the rotation", "%s", v)
	}
	pending := e.pendingVersion(ctx, s)
	failed = pending != ""
	if !failed {
		after := e.describe(ctx, s)
		if after.current == before.current {
			violate("after the rotation", "no rotation happened: AWSCURRENT is still %s and nothing is pending", shortID(before.current))
		}
		e.settled(ctx, s, rep, func(v string) { violate("after the rotation", "%s", v) })
		return false, false, nil
	}

	// Recovery: Secrets Manager retries the rotation with the same token.
	for _, step := range steps {
		ev := events.SecretsManagerSecretRotationEvent{Step: step, SecretID: s.arn, ClientRequestToken: pending, RotationToken: "chaos-retry"}
		if err := e.invoke(ctx, sandbox.FunctionARN, ev); err != nil {
			violate("recovery", "the retry's %s failed: %s", step, firstLine(err.Error()))
			break
		}
	}
	e.settled(ctx, s, rep, func(v string) { violate("after recovery", "%s", v) })
	if cur := e.describe(ctx, s).current; cur != pending {
		violate("after recovery", "AWSCURRENT is %s, not the retried version %s", shortID(cur), shortID(pending))
	}
	return true, true, nil
}

// settled checks a subject whose rotation has just completed or been
// recovered: the invariants with settled set and, after an insider step,
// the insider's (insiderCheck). The insider's account is then no longer
// exempt from the login checks, whatever they find.
func (e *env) settled(ctx context.Context, s *subject, rep *Report, violate func(string)) {
	t := s.tamper
	s.tamper = nil
	rep.Checks++
	for _, v := range e.invariants(ctx, s, true) {
		violate(v)
	}
	if t != nil {
		rep.Checks++
		for _, v := range e.insiderCheck(ctx, s, t) {
			violate(v)
		}
	}
}

// state is what DescribeSecret says about the labels.
type state struct {
	current, previous, pending string
	pendingCount               int
	err                        error
}

func (e *env) describe(ctx context.Context, s *subject) state {
	d, err := e.check.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(s.arn)})
	if err != nil {
		return state{err: err}
	}
	var st state
	for id, stages := range d.VersionIdsToStages {
		for _, l := range stages {
			switch l {
			case "AWSCURRENT":
				st.current = id
			case "AWSPREVIOUS":
				st.previous = id
			case "AWSPENDING":
				st.pending = id
				st.pendingCount++
			}
		}
	}
	return st
}

// pendingVersion is the version of an unfinished rotation: AWSPENDING on
// another version than AWSCURRENT; "" if none.
func (e *env) pendingVersion(ctx context.Context, s *subject) string {
	st := e.describe(ctx, s)
	if st.pending != "" && st.pending != st.current {
		return st.pending
	}
	return ""
}

// invariants checks the state and returns what does not hold. settled
// means a rotation just completed or was recovered: AWSCURRENT must log in
// and nothing may be pending.
//
// Two exemptions. A declared secret not yet provisioned (AWSCURRENT has no
// password) has no user to lock out: its logins are not checked until the
// first rotation creates the user. And between an insider step and the
// subject's next completed rotation (s.tamper), the account whose password
// the insider changed is exempt from the login checks: the insider locked
// it, not the rotation, and that rotation is what must repair it (checked
// by insiderCheck). The other account, the labels and the ledger are
// checked as always.
func (e *env) invariants(ctx context.Context, s *subject, settled bool) []string {
	var bad []string
	st := e.describe(ctx, s)
	if st.err != nil {
		return []string{fmt.Sprintf("DescribeSecret: %v", st.err)}
	}
	if st.pendingCount > 1 {
		bad = append(bad, fmt.Sprintf("%d versions carry AWSPENDING", st.pendingCount))
	}
	if st.current == "" {
		bad = append(bad, "no version is AWSCURRENT")
		return bad
	}
	unfinished := st.pending != "" && st.pending != st.current
	if settled && unfinished {
		bad = append(bad, fmt.Sprintf("version %s is still AWSPENDING", shortID(st.pending)))
	}
	cur, err := e.value(ctx, s, st.current)
	if err != nil {
		return append(bad, err.Error())
	}
	if cur.Password == "" {
		return append(bad, e.ledgerCheck(ctx, s, st)...)
	}
	tampered := func(user string) bool { return s.tamper != nil && s.tamper.user == user }
	curErr := e.login(ctx, cur)
	if tampered(cur.Username) {
		curErr = nil
	}
	if curErr != nil && (settled || !unfinished || s.strategy != sandbox.Single) {
		// Single user: while a rotation is unfinished the database may
		// already hold AWSPENDING's password; otherwise AWSCURRENT must work.
		bad = append(bad, fmt.Sprintf("AWSCURRENT (%s, user %s) does not log in: %v", shortID(st.current), cur.Username, curErr))
	}
	if curErr != nil && unfinished && !settled {
		pend, err := e.value(ctx, s, st.pending)
		if err != nil {
			bad = append(bad, "neither AWSCURRENT logs in nor has AWSPENDING a value: "+err.Error())
		} else if perr := e.login(ctx, pend); perr != nil {
			bad = append(bad, fmt.Sprintf("locked out: neither AWSCURRENT (%v) nor AWSPENDING (%v) logs in", curErr, perr))
		}
	}
	if s.strategy != sandbox.Single && st.previous != "" && !unfinished {
		prev, err := e.value(ctx, s, st.previous)
		if err != nil {
			bad = append(bad, err.Error())
		} else if prev.Username != cur.Username && prev.Password != "" && !tampered(prev.Username) {
			if err := e.login(ctx, prev); err != nil {
				bad = append(bad, fmt.Sprintf("the previous user %s (AWSPREVIOUS) does not log in: %v", prev.Username, err))
			}
		}
	}
	return append(bad, e.ledgerCheck(ctx, s, st)...)
}

// ledgerCheck: every version seen is still there (the secret stays under
// the 100 versions that Secrets Manager keeps) and the labelled versions
// have the value they had when first seen.
func (e *env) ledgerCheck(ctx context.Context, s *subject, st state) []string {
	var bad []string
	out, err := e.check.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(s.arn), IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(100)})
	if err != nil {
		return []string{fmt.Sprintf("ListSecretVersionIds: %v", err)}
	}
	listed := map[string]bool{}
	for _, v := range out.Versions {
		listed[aws.ToString(v.VersionId)] = true
	}
	for _, id := range s.seen {
		if !listed[id] {
			bad = append(bad, fmt.Sprintf("version %s was lost", shortID(id)))
		}
	}
	for _, id := range []string{st.current, st.previous, st.pending} {
		if id == "" {
			continue
		}
		v, err := e.rawValue(ctx, s, id)
		if err != nil {
			if id == st.pending && strings.Contains(err.Error(), "ResourceNotFoundException") {
				continue // createSecret has not put the value yet
			}
			bad = append(bad, err.Error())
			continue
		}
		h := sha256.Sum256([]byte(v))
		old, ok := s.ledger[id]
		switch {
		case !ok:
			s.ledger[id] = h
			s.seen = append(s.seen, id)
		case old != h:
			bad = append(bad, fmt.Sprintf("version %s was overwritten", shortID(id)))
		}
	}
	return bad
}

// finalCheck compares every version ever seen with its first value.
func (e *env) finalCheck(ctx context.Context, s *subject, rep *Report) {
	rep.Checks++
	for _, id := range s.seen {
		v, err := e.rawValue(ctx, s, id)
		if err != nil {
			rep.Violations = append(rep.Violations, fmt.Sprintf("%s final check: %v", s.strategy, err))
			continue
		}
		if sha256.Sum256([]byte(v)) != s.ledger[id] {
			rep.Violations = append(rep.Violations, fmt.Sprintf("%s final check: version %s was overwritten", s.strategy, shortID(id)))
		}
	}
	ids := make([]string, 0, len(s.seen))
	ids = append(ids, s.seen...)
	sort.Strings(ids)
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			rep.Violations = append(rep.Violations, fmt.Sprintf("%s final check: version %s seen twice", s.strategy, shortID(ids[i])))
		}
	}
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
