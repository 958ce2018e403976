package chaos

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/dbvault/dbvault/functions/rotator/checkpoint"
	"github.com/dbvault/dbvault/tools/sandbox"
)

// The kinds of fault, as the report counts them.
const (
	FaultNone        = "none"
	FaultFailpoint   = "process-exit-at-failpoint"
	FaultKill        = "process-killed"
	FaultDBStopped   = "db-stopped"
	FaultDBHung      = "db-hung"
	FaultDBRestarted = "db-restarted"
	FaultThrottle    = "sm-throttling"
	FaultInternal    = "sm-internal-error"
	FaultDrop        = "sm-dropped-connection"
	FaultConcurrent  = "two-rotations-at-once"
)

// Kinds lists every fault kind in report order.
var Kinds = []string{FaultNone, FaultFailpoint, FaultKill, FaultDBStopped, FaultDBHung, FaultDBRestarted, FaultThrottle, FaultInternal, FaultDrop, FaultConcurrent}

// failpoints are the rotator's checkpoints (package checkpoint) that each
// strategy passes on every rotation. handler:after-describe is reached
// once per step and is picked with a count (":n", the n-th step).
// Only reachable points are listed, so that every fail point drawn fires:
// setSecret:after-get-previous is left out (reached only when AWSCURRENT
// no longer logs in), and so is mysql:after-require (reached only for a
// user with a REQUIRE clause, and the local servers have no TLS, so no
// subject has one); setSecret:after-create-user is drawn only while the
// pending user does not exist (pick's pendingUserMissing): after the
// first alternating rotation both users exist and it never fires. Declared
// users (creatingPoints) also pass mysql:after-grant only then: an
// existing account already holds exactly the declared privileges, so
// nothing is granted; mysql:after-revoke is left out, since no account
// ever holds more.
var failpoints = map[string][]string{
	"single": slices.Concat(createAndReadPoints, []string{
		checkpoint.SetAfterLoginPending,
		checkpoint.SetAfterLogin,
		checkpoint.SetAfterAlter,
	}, testAndFinishPoints),
	"alternating": slices.Concat(createAndReadPoints, []string{
		checkpoint.SetAfterLoginPending,
		checkpoint.SetAfterGetMaster,
		checkpoint.SetAfterLogin,
		checkpoint.SetAfterCreateUser, // only while the alternate user does not exist yet
		checkpoint.MySQLAfterGrant,    // after the first GRANT copied from SHOW GRANTS
		checkpoint.SetAfterGrants,
		checkpoint.SetAfterAlter,
	}, testAndFinishPoints),
	"declared": slices.Concat(createAndReadPoints, []string{
		checkpoint.SetAfterGetMaster,
		checkpoint.SetAfterLoginPending,
		checkpoint.SetAfterLogin,
		checkpoint.SetAfterCreateDatabase,
		checkpoint.SetAfterCreateUser, // only while the pending user does not exist yet
		checkpoint.MySQLAfterGrant,    // likewise: the new account's declared privileges
		checkpoint.SetAfterGrants,
		checkpoint.SetAfterAlter,
	}, testAndFinishPoints),
}

// createAndReadPoints open every strategy's list: createSecret's points,
// then setSecret's reads of the two versions. testAndFinishPoints close
// it. The order of a list is the order pick draws from.
var (
	createAndReadPoints = []string{
		checkpoint.CreateAfterGetCurrent,
		checkpoint.CreateAfterGetPending,
		checkpoint.CreateAfterRandomPassword,
		checkpoint.CreateAfterPut,
		checkpoint.SetAfterGetCurrent,
		checkpoint.SetAfterGetPending,
	}
	testAndFinishPoints = []string{
		checkpoint.TestAfterGetPending,
		checkpoint.TestAfterLogin,
		checkpoint.TestAfterProbe,
		checkpoint.FinishAfterUpdateStage,
	}
)

// creatingPoints are, per strategy, the fail points a rotation reaches
// only when it creates its pending user.
var creatingPoints = map[string][]string{
	"alternating": {checkpoint.SetAfterCreateUser},
	"declared":    {checkpoint.SetAfterCreateUser, checkpoint.MySQLAfterGrant},
}

// steps are the rotation steps in order.
var steps = sandbox.Steps

// dbSteps are the steps that reach the database.
var dbSteps = []string{"setSecret", "testSecret"}

// plan is the fault one rotation gets.
type plan struct {
	Kind string
	// Step is the step during which the fault is active (DB, Secrets
	// Manager and kill faults).
	Step string
	// Failpoint is ROTATOR_FAILPOINT's value (FaultFailpoint).
	Failpoint string
	// Nth is the n-th Secrets Manager request of Step at which a Secrets
	// Manager fault starts, or the function is killed (from 1).
	Nth int
	// Times is how many requests in a row get the Secrets Manager fault
	// (the SDK's retries absorb fewer than its three attempts).
	Times int
}

func (p plan) String() string {
	switch p.Kind {
	case FaultNone, FaultConcurrent:
		return p.Kind
	case FaultFailpoint:
		return fmt.Sprintf("%s %s", p.Kind, p.Failpoint)
	case FaultKill:
		return fmt.Sprintf("%s at Secrets Manager request %d of %s", p.Kind, p.Nth, p.Step)
	case FaultThrottle, FaultInternal, FaultDrop:
		return fmt.Sprintf("%s on %d request(s) from request %d of %s", p.Kind, p.Times, p.Nth, p.Step)
	}
	return fmt.Sprintf("%s during %s", p.Kind, p.Step)
}

// pick chooses a rotation's fault with rng. Every kind is equally likely,
// so a run of a few dozen rotations meets each of them. pendingUserMissing
// says whether this rotation will create its pending user (alternating and
// declared users): only then are the strategy's creatingPoints drawn.
func pick(rng *rand.Rand, strategy string, pendingUserMissing bool) plan {
	p := plan{Kind: Kinds[rng.IntN(len(Kinds))]}
	switch p.Kind {
	case FaultFailpoint:
		names := failpoints[strategy]
		if !pendingUserMissing {
			names = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return slices.Contains(creatingPoints[strategy], n) })
		}
		// One extra slot for handler:after-describe with a step count.
		i := rng.IntN(len(names) + 1)
		if i == len(names) {
			p.Failpoint = fmt.Sprintf("%s:%d", checkpoint.AfterDescribe, 1+rng.IntN(len(steps)))
		} else {
			p.Failpoint = names[i]
		}
	case FaultKill:
		p.Step = steps[rng.IntN(len(steps))]
		p.Nth = 1 + rng.IntN(3)
	case FaultDBStopped, FaultDBHung, FaultDBRestarted:
		p.Step = dbSteps[rng.IntN(len(dbSteps))]
	case FaultThrottle, FaultInternal, FaultDrop:
		p.Step = steps[rng.IntN(len(steps))]
		p.Nth = 1 + rng.IntN(2)
		p.Times = 1 + rng.IntN(4)
	}
	return p
}

// isSMFault tells the Secrets Manager faults.
func isSMFault(kind string) bool {
	return slices.Contains([]string{FaultThrottle, FaultInternal, FaultDrop}, kind)
}
