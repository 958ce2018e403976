package chaos

import (
	"bytes"
	"context"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbvault/dbvault/functions/rotator/checkpoint"
	"github.com/dbvault/dbvault/tools/internal/testrotator"
	"github.com/dbvault/dbvault/tools/sandbox"
)

func TestMain(m *testing.M) { os.Exit(testrotator.Main(m)) }

// rotator is the rotator with fail points, as the chaos run uses it,
// built once for every test of the package; bootstrap builds it.
var (
	rotator   = testrotator.New(sandbox.BuildRotator, true)
	bootstrap = rotator.Get
)

// testSubject sets up a run's environment with opts on the embedded
// server and makes a subject of strategy in it.
func testSubject(t *testing.T, opts Options, strategy string) (*env, *subject) {
	t.Helper()
	opts.Bootstrap = rotator.Need(t)
	ctx := context.Background()
	e, err := setUp(ctx, opts, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.close(ctx) })
	s, err := e.newSubject(ctx, strategy, 0)
	if err != nil {
		t.Fatal(err)
	}
	return e, s
}

// TestShortRun is the short chaos run of the test suite: 10 rotations per
// strategy (single, alternating, declared) on the embedded server with
// seed 4, which draws every fault kind at least once and, for declared
// users, an insider step with AWSCURRENT's credential (before rotation 4)
// and one with AWSPREVIOUS's (before rotation 7); no invariant may be
// violated.
func TestShortRun(t *testing.T) {
	bin := rotator.Need(t)
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{Seed: 4, Rotations: 10, Bootstrap: bin, Out: &out})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	rep.Write(&out)
	if !rep.OK() {
		t.Fatalf("invariant violations:\n%s", out.String())
	}
	if rep.Rotations != 30 || rep.ByStrategy[sandbox.Declared] != 10 {
		t.Errorf("rotations = %d (%v), want 30, 10 of them declared", rep.Rotations, rep.ByStrategy)
	}
	if rep.Insider[stageCurrent] != 1 || rep.Insider[stagePrevious] != 1 {
		t.Errorf("seed 4 no longer makes one insider step with each stage's credential: %v\n%s", rep.Insider, out.String())
	}
	for _, k := range Kinds {
		if rep.Faults[k] == 0 {
			t.Errorf("seed 4 no longer draws %s:\n%s", k, out.String())
		}
	}
	// Only reachable fail points are drawn: each one drawn stopped its
	// rotation.
	if rep.Failed[FaultFailpoint] != rep.Faults[FaultFailpoint] {
		t.Errorf("%d fail points drawn, %d fired", rep.Faults[FaultFailpoint], rep.Failed[FaultFailpoint])
	}
	if rep.Recoveries == 0 || rep.Recoveries != sum(rep.Failed) {
		t.Errorf("recoveries = %d, failed rotations = %d", rep.Recoveries, sum(rep.Failed))
	}
	if !strings.Contains(out.String(), "seed 4") {
		t.Errorf("the report does not print the seed:\n%s", out.String())
	}
	t.Logf("\n%s", out.String())
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestPickIsRepeatable: the same seed draws the same faults.
func TestPickIsRepeatable(t *testing.T) {
	draw := func(seed uint64) []plan {
		rng := newRand(seed)
		var ps []plan
		for range 30 {
			ps = append(ps, pick(rng, sandbox.Alternating, true))
		}
		return ps
	}
	a, b, c := draw(7), draw(7), draw(8)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("draw %d differs for the same seed: %v vs %v", i, a[i], b[i])
		}
	}
	same := true
	for i := range a {
		same = same && a[i] == c[i]
	}
	if same {
		t.Fatal("seeds 7 and 8 draw the same faults")
	}
}

// TestInvariantsCatchLockout: the checker is not blind. A password changed
// behind the rotator's back (AWSCURRENT no longer logs in) and a version
// whose value changed are both reported.
func TestInvariantsCatchLockout(t *testing.T) {
	e, s := testSubject(t, Options{}, sandbox.Single)
	ctx := context.Background()
	if bad := e.invariants(ctx, s, true); len(bad) != 0 {
		t.Fatalf("a fresh secret violates: %v", bad)
	}
	st := e.describe(ctx, s)
	cur, err := e.value(ctx, s, st.current)
	if err != nil {
		t.Fatal(err)
	}
	// A value that changed since it was first seen.
	s.ledger[st.current] = [32]byte{1}
	bad := strings.Join(e.invariants(ctx, s, true), "\n")
	if !strings.Contains(bad, "overwritten") {
		t.Errorf("an overwritten version was not reported: %q", bad)
	}
	if _, err := e.DB.Admin().ExecContext(ctx, "ALTER USER ?@'%' IDENTIFIED BY ?", cur.Username, "changed-outside"); err != nil {
		t.Fatal(err)
	}
	bad = strings.Join(e.invariants(ctx, s, true), "\n")
	if !strings.Contains(bad, "AWSCURRENT") || !strings.Contains(bad, "does not log in") {
		t.Errorf("a locked-out AWSCURRENT was not reported: %q", bad)
	}
}

// TestInsiderIsCaught: the insider's checks are not blind, and the
// exemption is only for the insider's account until the next rotation. An
// insider step with AWSCURRENT's credential exempts that account from the
// checks made during a rotation; then, with no rotation to repair it, the
// checks made once a rotation has completed report that AWSCURRENT does not
// log in and that the insider's password does. The same with AWSPREVIOUS's
// credential reports the previous user.
func TestInsiderIsCaught(t *testing.T) {
	e, s := testSubject(t, Options{Rotations: 2, Strategies: []string{sandbox.Declared}}, sandbox.Declared)
	ctx := context.Background()
	rep := &Report{Insider: map[string]int{}}
	for i := 1; i <= 2; i++ { // provision the user, then its clone
		if _, _, err := e.rotation(ctx, s, plan{Kind: FaultNone}, i, rep); err != nil {
			t.Fatal(err)
		}
	}
	if len(rep.Violations) != 0 {
		t.Fatalf("clean rotations violate: %v", rep.Violations)
	}
	if err := e.insider(ctx, s, stageCurrent, 3, rep); err != nil || s.tamper == nil {
		t.Fatalf("insider step with AWSCURRENT's credential: %v %v", err, rep.Violations)
	}
	if bad := e.invariants(ctx, s, false); len(bad) != 0 {
		t.Errorf("the insider's account is not exempt until the next rotation: %v", bad)
	}
	var got []string
	e.settled(ctx, s, rep, func(v string) { got = append(got, v) })
	text := strings.Join(got, "\n")
	for _, want := range []string{"AWSCURRENT (", "does not log in", "the password the insider set with AWSCURRENT's credential still logs in to "} {
		if !strings.Contains(text, want) {
			t.Errorf("not reported: %q in\n%s", want, text)
		}
	}
	if s.tamper != nil {
		t.Error("the exemption outlives the rotation")
	}
	if err := e.insider(ctx, s, stagePrevious, 4, rep); err != nil || s.tamper == nil {
		t.Fatalf("insider step with AWSPREVIOUS's credential: %v %v", err, rep.Violations)
	}
	got = nil
	e.settled(ctx, s, rep, func(v string) { got = append(got, v) })
	text = strings.Join(got, "\n")
	for _, want := range []string{"(AWSPREVIOUS) does not log in", "the password the insider set with AWSPREVIOUS's credential still logs in"} {
		if !strings.Contains(text, want) {
			t.Errorf("not reported: %q in\n%s", want, text)
		}
	}
}

func TestBadOptions(t *testing.T) {
	for _, o := range []Options{{Rotations: MaxRotations + 1}, {Rotations: -1}, {Strategies: []string{"both"}}} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// TestFailpointNamesExist: every fail point the chaos run draws is one the
// rotator declares (checkpoint.Names), so a checkpoint removed from the
// rotator cannot silently stop firing.
func TestFailpointNamesExist(t *testing.T) {
	for strategy, names := range failpoints {
		for _, n := range names {
			if !slices.Contains(checkpoint.Names, n) {
				t.Errorf("%s: fail point %q is not in the rotator's checkpoint.Names", strategy, n)
			}
		}
	}
}

// TestPickDrawsOnlyReachableFailpoints: mysql:after-require (no subject has
// REQUIRE) and mysql:after-revoke (no declared account holds more than
// declared) are never drawn, and the points passed only while creating the
// pending user (setSecret:after-create-user; for declared users
// mysql:after-grant too) only while it is missing.
func TestPickDrawsOnlyReachableFailpoints(t *testing.T) {
	for _, strategy := range []string{sandbox.Alternating, sandbox.Declared} {
		rng := newRand(1)
		seen := map[string]int{}
		for _, missing := range []bool{false, true} {
			for range 3000 {
				p := pick(rng, strategy, missing)
				if p.Kind != FaultFailpoint {
					continue
				}
				if p.Failpoint == checkpoint.MySQLAfterRequire || p.Failpoint == checkpoint.MySQLAfterRevoke {
					t.Fatalf("%s: %s was drawn", strategy, p.Failpoint)
				}
				if slices.Contains(creatingPoints[strategy], p.Failpoint) && !missing {
					t.Fatalf("%s: %s was drawn although the pending user exists", strategy, p.Failpoint)
				}
				seen[p.Failpoint]++
			}
		}
		for _, n := range creatingPoints[strategy] {
			if seen[n] == 0 {
				t.Errorf("%s: %s is never drawn, even when the pending user is missing", strategy, n)
			}
		}
	}
}
