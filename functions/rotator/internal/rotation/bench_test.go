package rotation_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/dbvault/dbvault/functions/rotator/internal/rotation"
	"github.com/dbvault/dbvault/functions/rotator/internal/testdb"
)

// The in-process rotation benchmarks time full rotations (RotateSecret
// through the emulator, which calls the handler directly for the four
// steps) against the shared MariaDB: the same rotation as the Lambda
// harness's, without the runtime emulator's HTTP hops. They report the
// nearest-rank p50, p95 and p99 of the rotations' wall times; tools/bench
// runs them with -benchtime 100x and parses these metrics.

func BenchmarkRotationSingleUser(b *testing.B) { benchmarkRotation(b, false) }

func BenchmarkRotationAlternatingUsers(b *testing.B) { benchmarkRotation(b, true) }

func benchmarkRotation(b *testing.B, alternating bool) {
	e := newEnv(b)
	f := e.fixture(alternating)
	initial := e.holder(f.arn, rotation.StageCurrent)
	var ds []time.Duration
	// b.Loop times only the loop: the set-up above and the checks below are
	// outside the timer, and with -benchtime Nx the body runs exactly N times.
	for b.Loop() {
		start := time.Now()
		if err := e.rotate(f.arn); err != nil {
			b.Fatalf("rotation %d: %v", len(ds)+1, err)
		}
		ds = append(ds, time.Since(start))
	}
	// The rotations really happened: a new AWSCURRENT that logs in, with
	// clean labels (so a benchmark that rotated nothing cannot pass).
	if e.holder(f.arn, rotation.StageCurrent) == initial {
		b.Fatal("AWSCURRENT did not change")
	}
	e.checkLabels(f.arn)
	cur := e.get(f.arn, rotation.StageCurrent)
	if !testdb.CanLogin(b, testdb.Addr(), cur.Username, cur.Password) {
		b.Fatal("AWSCURRENT does not log in after the rotations")
	}
	slices.Sort(ds)
	for _, q := range []struct {
		unit string
		q    float64
	}{{"p50-ms", 0.50}, {"p95-ms", 0.95}, {"p99-ms", 0.99}} {
		b.ReportMetric(nearestRank(ds, q.q).Seconds()*1000, q.unit)
	}
}

// nearestRank is the q-quantile of sorted durations by the nearest-rank
// method (the same as tools/bench uses for the harness's figures).
func nearestRank(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}
