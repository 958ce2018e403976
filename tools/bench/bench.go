// Package bench measures the rotator on this machine: full rotation
// latency through the Lambda runtime interface emulator (p50, p95, p99 over
// at least 100 rotations, both strategies), cold start, peak memory of the
// function process, bootstrap and zip size, and Secrets Manager calls and
// database round trips per rotation set against the minimum the four steps
// need. It describes the machine and writes docs/BENCHMARKS.md.
//
// Budgets (p50 under 50 ms against the local MariaDB, cold start under
// 50 ms, peak memory under 40 MiB, zip under 8 MiB) are reported as pass or
// fail; they are not timed tests, because a shared machine's load moves
// every latency.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/faultproxy"
	"github.com/dbvault/dbvault/functions/rotator/smlocal"
	"github.com/dbvault/dbvault/tools/lambdaharness"
	"github.com/dbvault/dbvault/tools/sandbox"
	"github.com/dbvault/dbvault/tools/workspace"
)

// DefaultDSN is the local MariaDB the budgets refer to.
const DefaultDSN = "root@tcp(127.0.0.1:3306)/"

// Options configures Run.
type Options struct {
	// Rotations timed per strategy (default 100, at least 100 for the report
	// to count).
	Rotations int
	// ColdStarts is how many fresh function processes are timed (default 20).
	ColdStarts int
	// MySQLDSN is the database (default DefaultDSN); "embedded" means the
	// embedded server.
	MySQLDSN string
	// Bootstrap is the rotator built for this machine; empty means build it.
	Bootstrap string
	// DistDir holds the deployable bootstrap and rotator.zip (from `go run
	// mage.go dev:build`); empty means functions/rotator/dist of the workspace.
	DistDir string
	// AppRotations is how many rotations per strategy the application
	// simulation watches (default DefaultAppRotations); AppInterval is the
	// pause between them (default DefaultAppInterval).
	AppRotations int
	AppInterval  time.Duration
	// AppStrategies are the strategies the application simulation runs
	// (default all: single, alternating, declared).
	AppStrategies []string
	// Fleet is how many declared users the fleet measurement issues and
	// rotates (default DefaultFleet; negative skips it).
	Fleet int
	// Out receives progress lines; discarded when nil.
	Out io.Writer
}

// dsnOf maps Options.MySQLDSN to OpenDatabase's argument.
func dsnOf(dsn string) string {
	switch dsn {
	case "":
		return DefaultDSN
	case "embedded":
		return ""
	}
	return dsn
}

// sayTo prints progress lines to opts.Out.
func sayTo(opts Options) func(string, ...any) {
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	return func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
}

// Latency is a distribution of durations.
type Latency struct {
	N                  int
	P50, P95, P99, Max time.Duration
}

func latency(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := func(q float64) time.Duration {
		i := int(math.Ceil(q*float64(len(s)))) - 1
		return s[max(i, 0)]
	}
	return Latency{N: len(s), P50: rank(0.50), P95: rank(0.95), P99: rank(0.99), Max: s[len(s)-1]}
}

// Counts are the calls one rotation makes.
type Counts struct {
	// SecretsManager is calls per operation, per rotation (averaged).
	SecretsManager map[string]float64
	SMTotal        float64
	// Connections and Commands are database logins and client commands
	// (COM_QUERY, COM_PING, ...; COM_QUIT excluded) per rotation.
	Connections, Commands float64
	// ByCommand is commands per rotation by MySQL command name.
	ByCommand map[string]float64
	Rotations int
}

// StrategyResult is one strategy's figures.
type StrategyResult struct {
	Strategy string
	Full     Latency
	// InProcess is the full rotation with the handler called directly (the
	// rotator module's benchmarks); Max is not reported there.
	InProcess Latency
	Steps     map[string]Latency
	Counts    Counts
}

// Report is everything measured.
type Report struct {
	Machine    Machine
	Database   string
	Strategies []StrategyResult
	// ColdStart is from the first invocation's start (the runtime emulator
	// starts the process then) to its answer; Warm is the same invocation
	// in a warm process.
	ColdStart, Warm Latency
	// PeakMemoryKiB is VmHWM of the function process after the timed
	// rotations; 0 if it could not be read.
	PeakMemoryKiB int64
	// BootstrapBytes and ZipBytes are the deployable artefacts' sizes
	// (0 if missing).
	BootstrapBytes, ZipBytes int64
	DistDir                  string
	// HostBootstrapBytes is the size of the bootstrap measured here (host
	// architecture, not stripped).
	HostBootstrapBytes int64
	// App is the application simulation (logins during rotations through
	// a cached secret); nil if it did not run.
	App *AppReport
	// Fleet is a vault's worth of declared users; nil if it did not run.
	Fleet *FleetResult
	// InProcessCommand is the go test command that measured InProcess
	// (empty when it did not run).
	InProcessCommand string
	Started          time.Time
	Duration         time.Duration
	Notes            []string
}

// Run measures everything.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Rotations == 0 {
		opts.Rotations = 100
	}
	if opts.Rotations < 1 || opts.Rotations > 5000 {
		return nil, fmt.Errorf("rotations: %d; expected 1 to 5000", opts.Rotations)
	}
	if opts.ColdStarts == 0 {
		opts.ColdStarts = 20
	}
	if opts.ColdStarts < 1 || opts.ColdStarts > 500 {
		return nil, fmt.Errorf("cold starts: %d; expected 1 to 500", opts.ColdStarts)
	}
	appRotations, appInterval, err := checkAppOptions(opts.AppRotations, opts.AppInterval)
	if err != nil {
		return nil, err
	}
	if err := checkAppStrategies(opts.AppStrategies); err != nil {
		return nil, err
	}
	dsn := dsnOf(opts.MySQLDSN)
	say := sayTo(opts)
	rep := &Report{Started: time.Now().UTC(), Machine: describeMachine()}
	defer func() { rep.Duration = time.Since(rep.Started) }()

	b, err := setUp(ctx, dsn, opts.Bootstrap, say)
	if err != nil {
		return nil, err
	}
	defer b.close(context.WithoutCancel(ctx))
	rep.Database = b.DB.Description
	rep.Machine.Database = b.DB.Description
	if fi, err := os.Stat(b.Bootstrap); err == nil {
		rep.HostBootstrapBytes = fi.Size()
	}

	for _, strategy := range []string{sandbox.Single, sandbox.Alternating} {
		r, err := b.measureStrategy(ctx, strategy, opts.Rotations, say)
		if err != nil {
			return rep, fmt.Errorf("%s: %w", strategy, err)
		}
		rep.Strategies = append(rep.Strategies, r)
	}
	// The function process has now served every timed rotation: its
	// high-water mark is the peak of a long-lived execution environment.
	if kib, err := peakMemoryKiB(b.Bootstrap); err == nil {
		rep.PeakMemoryKiB = kib
	} else {
		rep.Notes = append(rep.Notes, "peak memory not read: "+err.Error())
	}
	say("cold starts (%d fresh processes) ...", opts.ColdStarts)
	if err := b.measureColdStart(ctx, opts.ColdStarts, rep); err != nil {
		return rep, fmt.Errorf("cold start: %w", err)
	}
	// The application simulation comes after the timed figures: its login
	// loops load the machine.
	app, err := b.simulateApps(ctx, opts.AppStrategies, appRotations, appInterval, say)
	if err != nil {
		return rep, err
	}
	rep.App = app
	if opts.Fleet == 0 {
		opts.Fleet = DefaultFleet
	}
	if opts.Fleet > 0 {
		if rep.Fleet, err = b.fleet(ctx, opts.Fleet, say); err != nil {
			return rep, err
		}
	}
	// The in-process benchmarks use the MariaDB on 127.0.0.1:3306 (the
	// rotator's test database), so they run only when that is the database
	// measured here.
	if dsn == DefaultDSN {
		say("in-process rotations (%s) ...", InProcessCommand(opts.Rotations))
		ip, err := runInProcess(ctx, opts.Rotations)
		if err != nil {
			return rep, fmt.Errorf("in-process: %w", err)
		}
		for i := range rep.Strategies {
			rep.Strategies[i].InProcess = ip[rep.Strategies[i].Strategy]
		}
		rep.InProcessCommand = InProcessCommand(opts.Rotations)
	} else {
		rep.Notes = append(rep.Notes, "in-process latency not measured: its benchmarks run against the MariaDB on 127.0.0.1:3306 only")
	}
	dist := opts.DistDir
	if dist == "" {
		if root, err := workspace.Root(); err == nil {
			dist = filepath.Join(root, "functions", "rotator", "dist")
		}
	}
	rep.DistDir = dist
	if root, err := workspace.Root(); err == nil {
		if rel, err := filepath.Rel(root, dist); err == nil && !strings.HasPrefix(rel, "..") {
			rep.DistDir = rel
		}
	}
	if fi, err := os.Stat(filepath.Join(dist, "bootstrap")); err == nil {
		rep.BootstrapBytes = fi.Size()
	} else {
		rep.Notes = append(rep.Notes, "no deployable bootstrap in "+dist+": run `go run mage.go dev:build` first")
	}
	if fi, err := os.Stat(filepath.Join(dist, "rotator.zip")); err == nil {
		rep.ZipBytes = fi.Size()
	} else {
		rep.Notes = append(rep.Notes, "no rotator.zip in "+dist+": run `go run mage.go dev:build` first")
	}
	return rep, nil
}

// bench is the running set-up.
type bench struct {
	*sandbox.Rig
	rec *sandbox.Recorder
	fn  *lambdaharness.Function

	mu     sync.Mutex
	smOps  map[string]int
	counts bool
}

func setUp(ctx context.Context, dsn, bootstrap string, say func(string, ...any)) (_ *bench, err error) {
	b := &bench{rec: &sandbox.Recorder{}, smOps: map[string]int{}}
	if b.Rig, err = sandbox.OpenRig(ctx, dsn, b.rec); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			b.close(context.WithoutCancel(ctx))
		}
	}()
	say("database: %s", b.DB.Description)
	// The fault injector sees every request: it counts them and injects
	// nothing.
	b.Emulator.Server.SetFaultInjector(func(op string) *smlocal.Fault {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.counts {
			b.smOps[op]++
		}
		return nil
	})
	if bootstrap == "" {
		say("building the rotator ...")
	}
	if err = b.SetBootstrap(ctx, bootstrap, false); err != nil {
		return nil, err
	}
	b.fn, err = sandbox.StartFunction(ctx, b.Bootstrap, sandbox.FunctionEnv(b.Emulator.URL), io.Discard)
	if err != nil {
		return nil, err
	}
	b.rec.SetTarget(smlocal.LambdaEndpoint(b.fn.URL()))
	return b, nil
}

func (b *bench) close(ctx context.Context) {
	if b.fn != nil {
		_ = b.fn.Stop()
	}
	_ = b.Rig.Close(ctx)
}

// newSecret creates a user (and master) and its secret, reached at
// host:port, with rotation turned on.
func (b *bench) newSecret(ctx context.Context, strategy, host string, port int) (string, error) {
	u, err := sandbox.SetUpUser(ctx, b.DB, b.Emulator.Client, strategy, "bench/", "bnx_", host, port)
	if err != nil {
		return "", err
	}
	return u.SecretARN, b.turnOn(ctx, u.SecretARN)
}

// turnOn turns rotation on for a secret without rotating it.
func (b *bench) turnOn(ctx context.Context, arn string) error {
	err := sandbox.TurnOn(ctx, b.Emulator.Client, arn)
	b.rec.Take()
	return err
}

// useFunction starts a function with env and sends the steps to it;
// restore sends them back to the bench's own function and stops it.
func (b *bench) useFunction(ctx context.Context, env map[string]string) (restore func(), err error) {
	fn, err := sandbox.StartFunction(ctx, b.Bootstrap, env, io.Discard)
	if err != nil {
		return nil, err
	}
	b.rec.SetTarget(smlocal.LambdaEndpoint(fn.URL()))
	return func() {
		b.rec.SetTarget(smlocal.LambdaEndpoint(b.fn.URL()))
		_ = fn.Stop()
	}, nil
}

// newDeclared makes a declared user's secret as the secrets layer deploys
// it (sandbox.SetUpDeclared; the secret and DB_HOST name the database
// itself), starts a function whose environment declares it and sends the
// steps there, turns rotation on and runs the first rotation, which
// creates the user. restore (nil on error) sends the steps back to the
// bench's own function and stops the new one.
func (b *bench) newDeclared(ctx context.Context) (arn string, restore func(), err error) {
	d, err := sandbox.SetUpDeclared(ctx, b.DB, b.Emulator.Client, "bench/", "bnd_", b.DB.Host, b.DB.Port, 1)
	if err != nil {
		return "", nil, err
	}
	declEnv, err := d.Env()
	if err != nil {
		return "", nil, err
	}
	restore, err = b.useFunction(ctx, sandbox.FunctionEnv(b.Emulator.URL, declEnv))
	if err != nil {
		return "", nil, err
	}
	arn = d.Users[0].SecretARN
	if err := b.turnOn(ctx, arn); err != nil {
		restore()
		return "", nil, err
	}
	if _, _, err := b.rotate(ctx, arn); err != nil {
		restore()
		return "", nil, fmt.Errorf("the first rotation (creates the declared user): %w", err)
	}
	return arn, restore, nil
}

// rotate runs one rotation and returns its wall time and steps.
func (b *bench) rotate(ctx context.Context, arn string) (time.Duration, []sandbox.Call, error) {
	start := time.Now()
	_, err := b.Emulator.Client.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(arn)})
	d := time.Since(start)
	calls := b.rec.Take()
	if err != nil {
		return d, calls, fmt.Errorf("RotateSecret: %w", err)
	}
	if len(calls) != 4 {
		return d, calls, fmt.Errorf("%d steps ran, want 4", len(calls))
	}
	for _, c := range calls {
		if c.Err != nil {
			return d, calls, fmt.Errorf("%s failed: %w", c.Step, c.Err)
		}
	}
	return d, calls, nil
}

// countRotations is how many rotations the call counts are averaged over.
const countRotations = 10

func (b *bench) measureStrategy(ctx context.Context, strategy string, n int, say func(string, ...any)) (StrategyResult, error) {
	res := StrategyResult{Strategy: strategy, Steps: map[string]Latency{}}
	// Latency: the secret names the database itself (no proxy in the path).
	arn, err := b.newSecret(ctx, strategy, b.DB.Host, b.DB.Port)
	if err != nil {
		return res, err
	}
	// Warm-up: the first rotations start the process and, for alternating
	// users, create the second user.
	for range 3 {
		if _, _, err := b.rotate(ctx, arn); err != nil {
			return res, fmt.Errorf("warm-up: %w", err)
		}
	}
	say("%s: %d timed rotations ...", strategy, n)
	var full []time.Duration
	steps := map[string][]time.Duration{}
	for range n {
		d, calls, err := b.rotate(ctx, arn)
		if err != nil {
			return res, err
		}
		full = append(full, d)
		for _, c := range calls {
			steps[c.Step] = append(steps[c.Step], c.Duration)
		}
	}
	res.Full = latency(full)
	for s, ds := range steps {
		res.Steps[s] = latency(ds)
	}
	say("%s: p50 %s, p95 %s, p99 %s", strategy, ms(res.Full.P50), ms(res.Full.P95), ms(res.Full.P99))

	// Counts: another secret that names the counting proxy.
	host, port := b.ProxyAt()
	carn, err := b.newSecret(ctx, strategy, host, port)
	if err != nil {
		return res, err
	}
	if _, _, err := b.rotate(ctx, carn); err != nil { // creates the second user
		return res, err
	}
	b.mu.Lock()
	b.smOps, b.counts = map[string]int{}, true
	b.mu.Unlock()
	b.Proxy.ResetCounts()
	for range countRotations {
		if _, _, err := b.rotate(ctx, carn); err != nil {
			b.mu.Lock()
			b.counts = false
			b.mu.Unlock()
			return res, err
		}
	}
	b.mu.Lock()
	b.counts = false
	ops := b.smOps
	b.mu.Unlock()
	pc := b.Proxy.Counts()
	c := Counts{SecretsManager: map[string]float64{}, Rotations: countRotations}
	for op, k := range ops {
		if op == "RotateSecret" {
			continue // the caller's request, not the function's
		}
		c.SecretsManager[op] = float64(k) / countRotations
		c.SMTotal += float64(k) / countRotations
	}
	c.Connections = float64(pc.Connections) / countRotations
	c.Commands = float64(pc.RoundTrips()) / countRotations
	c.ByCommand = map[string]float64{}
	for cmd, k := range pc.Commands {
		c.ByCommand[commandName(cmd)] = float64(k) / countRotations
	}
	res.Counts = c
	return res, nil
}

// measureColdStart starts fresh functions and times their first
// invocation: a finishSecret step for a version that is already AWSCURRENT,
// which the function answers after one DescribeSecret (the smallest
// complete invocation).
func (b *bench) measureColdStart(ctx context.Context, n int, rep *Report) error {
	arn, err := b.newSecret(ctx, sandbox.Single, b.DB.Host, b.DB.Port)
	if err != nil {
		return err
	}
	if _, _, err := b.rotate(ctx, arn); err != nil {
		return err
	}
	d, err := b.Emulator.Client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
	if err != nil {
		return err
	}
	var current string
	for id, stages := range d.VersionIdsToStages {
		for _, s := range stages {
			if s == "AWSCURRENT" {
				current = id
			}
		}
	}
	payload, err := json.Marshal(events.SecretsManagerSecretRotationEvent{Step: "finishSecret", SecretID: arn, ClientRequestToken: current})
	if err != nil {
		return err
	}
	var cold, warm []time.Duration
	for range n {
		fn, err := sandbox.StartFunction(ctx, b.Bootstrap, sandbox.FunctionEnv(b.Emulator.URL), io.Discard)
		if err != nil {
			return err
		}
		start := time.Now()
		_, err = fn.Invoke(ctx, payload)
		cold = append(cold, time.Since(start))
		if err == nil {
			start = time.Now()
			_, err = fn.Invoke(ctx, payload)
			warm = append(warm, time.Since(start))
		}
		_ = fn.Stop()
		if err != nil {
			return err
		}
	}
	rep.ColdStart, rep.Warm = latency(cold), latency(warm)
	return nil
}

// peakMemoryKiB reads VmHWM of the running process whose executable is
// bootstrap (the function process, a child of the runtime emulator).
func peakMemoryKiB(bootstrap string) (int64, error) {
	want, err := filepath.EvalSymlinks(bootstrap)
	if err != nil {
		return 0, err
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("/proc: %w", err)
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || exe != want {
			continue
		}
		status, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status")) // #nosec G304 -- /proc/<pid>/status of a process found above
		if err != nil {
			return 0, err
		}
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				f := strings.Fields(v)
				if len(f) == 2 && f[1] == "kB" {
					return strconv.ParseInt(f[0], 10, 64)
				}
			}
		}
		return 0, errors.New("no VmHWM in /proc/" + e.Name() + "/status")
	}
	return 0, errors.New("the function process is not running")
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
}

// commandName names a MySQL command byte.
func commandName(b byte) string {
	switch b {
	case faultproxy.ComQuit:
		return "COM_QUIT"
	case faultproxy.ComInitDB:
		return "COM_INIT_DB"
	case faultproxy.ComQuery:
		return "COM_QUERY"
	case faultproxy.ComPing:
		return "COM_PING"
	case faultproxy.ComStmtPrepare:
		return "COM_STMT_PREPARE"
	case faultproxy.ComStmtExecute:
		return "COM_STMT_EXECUTE"
	case faultproxy.ComStmtClose:
		return "COM_STMT_CLOSE"
	case faultproxy.ComResetConn:
		return "COM_RESET_CONNECTION"
	}
	return fmt.Sprintf("0x%02x", b)
}
