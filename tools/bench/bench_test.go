package bench

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dbvault/dbvault/tools/internal/testrotator"
	"github.com/dbvault/dbvault/tools/sandbox"
)

// rotator is built once for every test that runs it: each measurement
// would otherwise build and link its own.
var rotator = testrotator.New(sandbox.BuildRotator, false)

func TestMain(m *testing.M) { os.Exit(testrotator.Main(m)) }

func TestLatencyNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(101-i)*time.Millisecond) // unsorted on purpose
	}
	l := latency(ds)
	if l.N != 100 || l.P50 != 50*time.Millisecond || l.P95 != 95*time.Millisecond || l.P99 != 99*time.Millisecond || l.Max != 100*time.Millisecond {
		t.Fatalf("latency = %+v", l)
	}
	if one := latency([]time.Duration{7}); one.P50 != 7 || one.P99 != 7 {
		t.Fatalf("one sample: %+v", one)
	}
	if (latency(nil) != Latency{}) {
		t.Fatal("no samples should give the zero Latency")
	}
}

func TestBudgets(t *testing.T) {
	r := &Report{
		Database:      "10.11.19-MariaDB at 127.0.0.1:3306",
		Strategies:    []StrategyResult{{Strategy: "single", Full: Latency{N: 100, P50: 30 * time.Millisecond}}},
		ColdStart:     Latency{N: 5, P50: 60 * time.Millisecond},
		PeakMemoryKiB: 20 << 10,
		ZipBytes:      4 << 20,
	}
	got := map[string]string{}
	for _, b := range r.Budgets() {
		got[b.Name] = verdict(b)
	}
	want := map[string]string{
		"full rotation p50, single user, local MariaDB": "pass",
		"cold start p50": "FAIL",
		"peak memory of the function process (VmHWM)": "pass",
		"rotator.zip": "pass",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
	if r.BudgetsOK() {
		t.Error("BudgetsOK with a failed budget")
	}
	r.Database = "embedded go-mysql-server"
	for _, b := range r.Budgets() {
		if strings.HasPrefix(b.Name, "full rotation") && b.Known {
			t.Error("the MariaDB budget was judged on another server")
		}
	}
}

// TestRunSmall runs the whole measurement briefly on the embedded server
// and checks that every figure was filled in and the Markdown has its
// sections. It asserts no timing: budgets are reported, not tested.
func TestRunSmall(t *testing.T) {
	bin := rotator.Need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dist := t.TempDir()
	for _, f := range []string{"bootstrap", "rotator.zip"} {
		if err := os.WriteFile(dist+"/"+f, make([]byte, 1000), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Run(ctx, Options{Rotations: 3, ColdStarts: 2, MySQLDSN: "embedded", Bootstrap: bin, DistDir: dist, AppRotations: 2, AppInterval: 100 * time.Millisecond, Fleet: 5})
	if err != nil {
		t.Fatal(err)
	}
	if f := r.Fleet; f == nil || f.Users != 5 || f.Provision.N != 5 || f.Rotate.N != 5 || f.ProvisionTotal <= 0 || f.DeclarationBytes == 0 {
		t.Errorf("fleet: %+v", r.Fleet)
	}
	if len(r.Strategies) != 2 {
		t.Fatalf("strategies: %+v", r.Strategies)
	}
	for _, s := range r.Strategies {
		if s.Full.N != 3 || s.Full.P50 <= 0 || len(s.Steps) != 4 {
			t.Errorf("%s latency: %+v", s.Strategy, s)
		}
		min := minimum[s.Strategy]
		if s.Counts.SMTotal < float64(min.SM) || s.Counts.Connections < float64(min.Conns) || s.Counts.Commands < float64(min.Commands) {
			t.Errorf("%s counts below the stated minimum (a miscount or a wrong minimum): %+v, min %+v", s.Strategy, s.Counts, min)
		}
	}
	if r.ColdStart.N != 2 || r.ColdStart.P50 <= 0 || r.PeakMemoryKiB <= 0 || r.ZipBytes != 1000 || r.BootstrapBytes != 1000 {
		t.Errorf("report: %+v", r)
	}
	if r.App == nil || len(r.App.Results) != 3*len(AppTTLs(r.App.Interval)) || r.App.Rotation["alternating"].N != 2 || r.App.Rotation["declared"].N != 2 {
		t.Errorf("application simulation: %+v", r.App)
	}
	md := r.Markdown()
	for _, s := range []string{"# Benchmarks", "## Machine", "## Results", "## Budgets", "## Application logins during rotation", "| alternating users | 0 s (every login reads) |", "| declared users | 0 s (every login reads) |", "- **Declared users**", "## What limits each figure", "go run mage.go dev:bench", "| full rotation p50 |", "## A vault of 5 declared users", "| first (creates the user) |"} {
		if !strings.Contains(md, s) {
			t.Errorf("Markdown lacks %q", s)
		}
	}
}
