package bench

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// Machine describes where the figures were measured.
type Machine struct {
	CPU, Kernel, GoVersion, Database string
	Cores                            int
	MemTotal                         string
	// LoadAverage is /proc/loadavg's 1, 5 and 15 minute figures at the
	// start: other work on the machine moves every latency.
	LoadAverage string
}

func describeMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), CPU: "unknown", Kernel: "unknown", MemTotal: "unknown", LoadAverage: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kib int64
				if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kib); err == nil {
					m.MemTotal = fmt.Sprintf("%.1f GiB", float64(kib)/(1<<20))
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAverage = strings.Join(f[:3], " ")
		}
	}
	return m
}

// The budgets.
const (
	budgetP50       = 50 * time.Millisecond
	budgetColdStart = 50 * time.Millisecond
	budgetMemoryKiB = 40 << 10
	budgetZipBytes  = 8 << 20
)

// Budget is one budget's verdict.
type Budget struct {
	Name, Limit, Measured string
	// Pass is true when within the budget; Known is false when the figure
	// is missing or was not measured where the budget applies.
	Pass, Known bool
}

// Budgets judges the figures against the budgets.
func (r *Report) Budgets() []Budget {
	var out []Budget
	p50 := Budget{Name: "full rotation p50, single user, local MariaDB", Limit: "< 50 ms", Measured: "not measured"}
	for _, s := range r.Strategies {
		if s.Strategy == "single" && s.Full.N > 0 {
			p50.Measured = ms(s.Full.P50)
			p50.Known = strings.Contains(r.Database, "MariaDB")
			p50.Pass = s.Full.P50 < budgetP50
			if !p50.Known {
				p50.Measured += " (not MariaDB: " + r.Database + ")"
			}
		}
	}
	out = append(out, p50)
	out = append(out, Budget{Name: "cold start p50", Limit: "< 50 ms", Measured: ms(r.ColdStart.P50), Known: r.ColdStart.N > 0, Pass: r.ColdStart.P50 < budgetColdStart})
	out = append(out, Budget{Name: "peak memory of the function process (VmHWM)", Limit: "< 40 MiB", Measured: mib(r.PeakMemoryKiB << 10), Known: r.PeakMemoryKiB > 0, Pass: r.PeakMemoryKiB < budgetMemoryKiB})
	out = append(out, Budget{Name: "rotator.zip", Limit: "< 8 MiB", Measured: mib(r.ZipBytes), Known: r.ZipBytes > 0, Pass: r.ZipBytes < budgetZipBytes})
	return out
}

// BudgetsOK reports whether every budget is known and met.
func (r *Report) BudgetsOK() bool {
	for _, b := range r.Budgets() {
		if !b.Known || !b.Pass {
			return false
		}
	}
	return true
}

func verdict(b Budget) string {
	switch {
	case !b.Known:
		return "UNKNOWN"
	case b.Pass:
		return "pass"
	}
	return "FAIL"
}

func mib(n int64) string {
	if n <= 0 {
		return "not measured"
	}
	return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
}

// Minimum calls of one rotation, per strategy, as the rotation contract
// needs them (see minimumText).
var minimum = map[string]struct {
	SM, Conns, Commands int
}{
	"single":      {SM: 12, Conns: 3, Commands: 3},
	"alternating": {SM: 13, Conns: 4, Commands: 5},
}

// minimumText explains the minimum counts.
const minimumText = `### The minimum a rotation needs, and why

Secrets Manager calls (single user 12, alternating users 13):

| step | calls | why none can go |
| --- | --- | --- |
| every step | DescribeSecret (4 in all) | the rotation contract checks the version's stages before any step (rotation on, token is AWSPENDING, or already AWSCURRENT: done); each step is a separate invocation that may follow a crash, so nothing can be carried over |
| createSecret | GetSecretValue AWSCURRENT, GetSecretValue AWSPENDING (by token), GetRandomPassword, PutSecretValue | the new value is built from the current one; the AWSPENDING read makes a retry reuse its value instead of minting a second password; the password comes from GetRandomPassword (the function's contract); PutSecretValue stores it under the token |
| setSecret | GetSecretValue AWSCURRENT, GetSecretValue AWSPENDING (+ the master secret for alternating users) | the credentials to log in with, and the password to set |
| testSecret | GetSecretValue AWSPENDING | the credentials to test |
| finishSecret | UpdateSecretVersionStage | the DescribeSecret of the guard already names the version that holds AWSCURRENT |

Database round trips (single user: 3 logins and 3 commands; alternating users: 4 logins and 5 commands with one grant row, plus one per further row of SHOW GRANTS):

- single user, setSecret: a login with AWSPENDING (refused on the first try; it is what makes a retry after a crash between ALTER USER and the step's end a no-op), a login with AWSCURRENT, SELECT CURRENT_USER() (the account's host part: ALTER USER CURRENT_USER() is not portable) and ALTER USER; testSecret: a login with AWSPENDING and one probe query.
- alternating users, setSecret: a login with AWSPENDING (refused while the other user has the old password), a login with AWSCURRENT and SELECT CURRENT_USER() (proves the secret's credentials and gives the host part), a login as the master, SHOW GRANTS and one GRANT per row, ALTER USER; testSecret: a login and a probe.

Each login is also a TCP connection and a handshake (greeting, authentication, OK: about two round trips); COM_QUIT, which gets no answer, is not counted.

Where the rotator makes more than the minimum (see the counts by kind above):

- single user on MariaDB: one more command. MariaDB refuses ALTER USER on one's own account without the CREATE USER privilege (error 1227), so the rotator falls back to SET PASSWORD; MySQL 8, Aurora MySQL and the embedded server take ALTER USER at once.
- alternating users: SELECT VERSION() (the server's user-name length limit), a look-up in mysql.user (does the other user exist) and a read of the REQUIRE columns of mysql.user (MySQL 8's SHOW GRANTS does not show them) come on top of the minimum; each is one round trip of well under a millisecond on a local server.`

// Markdown renders docs/BENCHMARKS.md.
func (r *Report) Markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# Benchmarks")
	w("")
	w("Measured by `go run mage.go dev:bench` on %s (UTC), in %.0f s. Reproduce with:", r.Started.Format("2006-01-02 15:04"), r.Duration.Seconds())
	w("")
	w("```sh")
	w("go run mage.go dev:bench                          # 100 rotations per strategy against the MariaDB on 127.0.0.1:3306")
	w("BENCH_ROTATIONS=500 go run mage.go dev:bench      # more rotations")
	w("BENCH_MYSQL_DSN=embedded go run mage.go dev:bench # the embedded server instead (or any DSN)")
	w("BENCH_APP_ROTATIONS=20 go run mage.go dev:bench   # fewer rotations watched by the application simulation (default %d)", DefaultAppRotations)
	w("BENCH_APP_INTERVAL=1s go run mage.go dev:bench    # a longer interval between those rotations (default %s)", DefaultAppInterval)
	w("%s # the in-process rows alone", InProcessCommand(100))
	w("```")
	w("")
	w("## Machine")
	w("")
	w("| | |")
	w("| --- | --- |")
	w("| CPU | %s |", r.Machine.CPU)
	w("| cores | %d |", r.Machine.Cores)
	w("| memory | %s |", r.Machine.MemTotal)
	w("| kernel | %s |", r.Machine.Kernel)
	w("| Go | %s |", r.Machine.GoVersion)
	w("| database | %s |", r.Machine.Database)
	w("| load average at the start (1, 5, 15 min) | %s |", r.Machine.LoadAverage)
	w("")
	w("## Results")
	w("")
	w("| figure | single user | alternating users |")
	w("| --- | --- | --- |")
	get := func(f func(StrategyResult) string) (string, string) {
		var a, c string
		for _, s := range r.Strategies {
			if s.Strategy == "single" {
				a = f(s)
			} else {
				c = f(s)
			}
		}
		return a, c
	}
	row := func(name string, f func(StrategyResult) string) {
		a, c := get(f)
		w("| %s | %s | %s |", name, a, c)
	}
	row("full rotation through the Lambda RIE, rotations timed", func(s StrategyResult) string { return fmt.Sprint(s.Full.N) })
	row("full rotation p50", func(s StrategyResult) string { return ms(s.Full.P50) })
	row("full rotation p95", func(s StrategyResult) string { return ms(s.Full.P95) })
	row("full rotation p99", func(s StrategyResult) string { return ms(s.Full.P99) })
	row("full rotation max", func(s StrategyResult) string { return ms(s.Full.Max) })
	if r.InProcessCommand != "" {
		row("full rotation in-process (handler called directly), rotations timed", func(s StrategyResult) string { return fmt.Sprint(s.InProcess.N) })
		row("full rotation in-process p50", func(s StrategyResult) string { return ms(s.InProcess.P50) })
		row("full rotation in-process p95", func(s StrategyResult) string { return ms(s.InProcess.P95) })
		row("full rotation in-process p99", func(s StrategyResult) string { return ms(s.InProcess.P99) })
	} else {
		row("full rotation in-process (handler called directly)", func(StrategyResult) string { return "not measured (see below)" })
	}
	for _, step := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
		row(step+" p50 (invocation as the emulator times it)", func(s StrategyResult) string { return ms(s.Steps[step].P50) })
	}
	row("Secrets Manager calls per rotation (minimum)", func(s StrategyResult) string {
		return fmt.Sprintf("%.1f (%d)", s.Counts.SMTotal, minimum[s.Strategy].SM)
	})
	row("database logins per rotation (minimum)", func(s StrategyResult) string {
		return fmt.Sprintf("%.1f (%d)", s.Counts.Connections, minimum[s.Strategy].Conns)
	})
	row("database commands per rotation (minimum)", func(s StrategyResult) string {
		return fmt.Sprintf("%.1f (%d)", s.Counts.Commands, minimum[s.Strategy].Commands)
	})
	row("Secrets Manager calls by operation", func(s StrategyResult) string { return opsText(s.Counts.SecretsManager) })
	row("database commands by kind", func(s StrategyResult) string { return opsText(s.Counts.ByCommand) })
	w("")
	w("| figure | value |")
	w("| --- | --- |")
	w("| cold start p50 / max (%d fresh processes: process start to the first completed invocation) | %s / %s |", r.ColdStart.N, ms(r.ColdStart.P50), ms(r.ColdStart.Max))
	w("| the same invocation warm, p50 | %s |", ms(r.Warm.P50))
	w("| peak memory of the function process (VmHWM after every timed rotation) | %s |", mib(r.PeakMemoryKiB<<10))
	w("| deployable bootstrap (linux/arm64, stripped; %s) | %s |", r.DistDir, mib(r.BootstrapBytes))
	w("| rotator.zip | %s |", mib(r.ZipBytes))
	w("| bootstrap measured here (host architecture %s/%s) | %s |", runtime.GOOS, runtime.GOARCH, mib(r.HostBootstrapBytes))
	w("")
	w("## Budgets")
	w("")
	w("| budget | limit | measured | verdict |")
	w("| --- | --- | --- | --- |")
	for _, bd := range r.Budgets() {
		w("| %s | %s | %s | %s |", bd.Name, bd.Limit, bd.Measured, verdict(bd))
	}
	if r.App != nil {
		w("")
		r.App.markdown(w, r.Machine.LoadAverage, r.Machine.Cores)
	}
	if r.Fleet != nil {
		w("")
		r.Fleet.markdown(w)
	}
	w("")
	w("## What limits each figure")
	w("")
	w("- **Full rotation latency** is four Lambda invocations through the runtime interface emulator (an HTTP round trip each, plus the emulator's own bookkeeping), %s Secrets Manager calls to the local emulator over loopback HTTP, and the database logins and statements listed below. The per-step figures show where it goes: createSecret touches no database, so its time is the invocation and five Secrets Manager calls; setSecret and testSecret add the logins (each a new connection and handshake, by design: every step proves the credentials afresh) and statements. The machine is shared (2 cores, other builds running): its load, in the table above, moves p95 and p99 far more than p50. Against Aurora, the network inside the VPC and Secrets Manager's own latency over its VPC endpoint, which this machine cannot measure, come on top.", fmtMin())
	if r.InProcessCommand != "" {
		w("- **In-process latency** is the same full rotation (RotateSecret to the in-process emulator, which calls the rotation handler directly for the four steps; the handler's Secrets Manager client still goes over loopback HTTP to the emulator, and the database is the same MariaDB) without the runtime emulator's HTTP hops and the function process: Go benchmarks in the rotator's module (`functions/rotator/internal/rotation/bench_test.go`, where the handler is internal), run by `%s` from the repository root; each checks after its loop that AWSCURRENT logs in. They run after the harness's rotations, in a fresh test process, on the same shared machine, so the two columns are comparable only roughly: the load moves both.", r.InProcessCommand)
	} else {
		w("- **In-process latency** is not measured in this run: its benchmarks (`functions/rotator/internal/rotation/bench_test.go`, `%s`) run against the MariaDB on 127.0.0.1:3306 only.", InProcessCommand(100))
	}
	w("- **Cold start** is the runtime emulator starting the process (fork and exec of a static binary), the Go runtime's start, the function's init (configuration, AWS SDK client; no network call) and one complete invocation (one DescribeSecret). On Lambda the sandbox's own creation comes on top and is not the function's to shorten.")
	w("- **Peak memory** is the resident-set high-water mark (VmHWM) of the bootstrap process, read from /proc after every timed rotation in one warm process; Lambda bills the configured memory (128 MB is plenty), not this figure.")
	w("- **Sizes** are the deployable artefacts from `go run mage.go dev:build` (linux/arm64, CGO off, -trimpath, stripped, no build id); the zip's size decides nothing at run time beyond the first download into a sandbox.")
	w("- **Call counts** are counted by the emulator (every request the function made, RotateSecret itself excluded) and by a counting TCP proxy between the function and the database (logins, and client commands by MySQL packet; valid for plaintext sessions only, which is why the local runs use DB_TLS=disabled). They are averaged over %d rotations after the alternating strategy's second user exists.", countRotations)
	w("")
	w("%s", minimumText)
	if len(r.Notes) > 0 {
		w("")
		w("## Notes")
		w("")
		for _, n := range r.Notes {
			w("- %s", n)
		}
	}
	return b.String()
}

func fmtMin() string {
	return fmt.Sprintf("at least %d (single user) or %d (alternating users)", minimum["single"].SM, minimum["alternating"].SM)
}

func opsText(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.1f", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// Text is the console report.
func (r *Report) Text() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("machine: %s, %d cores, %s, %s, load %s", r.Machine.CPU, r.Machine.Cores, r.Machine.GoVersion, r.Machine.Kernel, r.Machine.LoadAverage)
	w("database: %s", r.Database)
	for _, s := range r.Strategies {
		w("%-11s full rotation (RIE, n=%d): p50 %s  p95 %s  p99 %s  max %s", s.Strategy, s.Full.N, ms(s.Full.P50), ms(s.Full.P95), ms(s.Full.P99), ms(s.Full.Max))
		w("%-11s per rotation: %.1f Secrets Manager calls (min %d), %.1f DB logins (min %d), %.1f DB commands (min %d)", s.Strategy,
			s.Counts.SMTotal, minimum[s.Strategy].SM, s.Counts.Connections, minimum[s.Strategy].Conns, s.Counts.Commands, minimum[s.Strategy].Commands)
		w("%-11s   Secrets Manager: %s; database: %s", "", opsText(s.Counts.SecretsManager), opsText(s.Counts.ByCommand))
	}
	if r.InProcessCommand != "" {
		for _, s := range r.Strategies {
			w("%-11s full rotation (in-process, n=%d): p50 %s  p95 %s  p99 %s", s.Strategy, s.InProcess.N, ms(s.InProcess.P50), ms(s.InProcess.P95), ms(s.InProcess.P99))
		}
	} else {
		w("in-process rotation: not measured (see notes)")
	}
	w("cold start (n=%d): p50 %s  max %s; warm: p50 %s", r.ColdStart.N, ms(r.ColdStart.P50), ms(r.ColdStart.Max), ms(r.Warm.P50))
	w("peak memory (VmHWM): %s", mib(r.PeakMemoryKiB<<10))
	w("bootstrap %s, rotator.zip %s (%s)", mib(r.BootstrapBytes), mib(r.ZipBytes), r.DistDir)
	w("budgets:")
	for _, bd := range r.Budgets() {
		w("  %-50s %-9s %-28s %s", bd.Name, bd.Limit, bd.Measured, verdict(bd))
	}
	if r.App != nil {
		r.App.text(w)
	}
	if f := r.Fleet; f != nil {
		w("fleet of %d declared users (declarations file %d bytes): provisioning p50 %s p95 %s, total %.1f s; rotation p50 %s p95 %s, total %.1f s",
			f.Users, f.DeclarationBytes, ms(f.Provision.P50), ms(f.Provision.P95), f.ProvisionTotal.Seconds(), ms(f.Rotate.P50), ms(f.Rotate.P95), f.RotateTotal.Seconds())
	}
	for _, n := range r.Notes {
		w("note: %s", n)
	}
	return b.String()
}
