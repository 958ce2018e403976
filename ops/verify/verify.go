// Package verify proves, read-only, that a deployed environment works the
// way the four layers meant it to: `go run mage.go verify` (vault verify)
// reads the layers' stack outputs, asks AWS about the resources they name
// and prints one line per check,
//
//	PASS <check>: <detail>
//	FAIL <check>: <detail>; fix: <what to do>
//
// exiting non-zero when any line fails. Checks: trail, alerts,
// alerts-event-shape, alerts-rotator, alerts-silencing, rotator, secrets/<user> and secrets/master,
// app-secret-policies, master-secret-policy, secrets-key-direct-use,
// database, tls-version, audit-log, flow-log, endpoints, zones.
//
// Every AWS service is reached through a small interface holding only the
// methods called (Clients), so tests run every check against fakes, and the
// Secrets Manager checks also against functions/rotator/smlocal. No check writes: the
// interfaces have no write method, the Secrets Manager adapter handed to
// ops/status refuses RotateSecret, and the one KMS call is a dry run of
// Decrypt on a dummy ciphertext.
//
// Field semantics are cited from the AWS API references next to the code
// that relies on them; what could not be confirmed offline is marked
// "unconfirmed".
package verify

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dbvault/dbvault/ops/status"
)

// Result is one printed line.
type Result struct {
	// Check names the check ("trail", "secrets/app", ...).
	Check string
	// OK is PASS.
	OK bool
	// Detail is what was found.
	Detail string
	// Fix says what to do (FAIL only).
	Fix string
}

// Line renders the result as printed.
func (r Result) Line() string {
	if r.OK {
		return fmt.Sprintf("PASS %s: %s", r.Check, r.Detail)
	}
	return fmt.Sprintf("FAIL %s: %s; fix: %s", r.Check, r.Detail, r.Fix)
}

// Verifier runs the checks of one environment.
type Verifier struct {
	// Clients reach AWS (or fakes).
	Clients Clients
	// Outputs are the layers' stack outputs.
	Outputs Outputs
	// Env is the environment's name, used in the fix commands ("" prints
	// <env>).
	Env string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Fresh says the environment was deployed moments ago (VERIFY_FRESH=1,
	// which the proof workflow sets): CloudTrail's event history cannot
	// hold a rotation event of its secrets yet (it lags by minutes, and RDS
	// rotates the master secret only on its schedule), so
	// alerts-event-shape reports a missing event as pending instead of
	// failing. An event that is there is still checked.
	Fresh bool
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) env() string {
	if v.Env == "" {
		return "<env>"
	}
	return v.Env
}

// up is the command that deploys layer again, after a refresh
// (status.Redeploy).
func (v *Verifier) up(layer string) string { return status.Redeploy(v.env(), layer) }

// Run runs every check, in the order of the package comment.
func (v *Verifier) Run(ctx context.Context) []Result {
	var out []Result
	out = append(out, v.trail(ctx))
	// One lookup of real rotation events serves both alerts lines.
	app, master := v.lookupRotationEvents(ctx, v.appSecrets(), v.masterSecrets())
	out = append(out, v.alerts(ctx, app))
	out = append(out, v.alertsEventShape(app, master))
	out = append(out, v.alertsRotator(ctx))
	out = append(out, v.alertsSilencing(ctx))
	out = append(out, v.rotator(ctx))
	out = append(out, v.secrets(ctx)...)
	out = append(out, v.appSecretPolicies(ctx))
	out = append(out, v.masterSecretPolicy(ctx))
	out = append(out, v.secretsKeyDirectUse(ctx))
	out = append(out, v.database(ctx))
	out = append(out, v.tlsVersion(ctx))
	out = append(out, v.auditLog(ctx))
	out = append(out, v.flowLog(ctx))
	out = append(out, v.endpoints(ctx))
	out = append(out, v.zones(ctx))
	return out
}

// Print writes one line per result and returns how many failed.
func Print(w io.Writer, results []Result) int {
	failed := 0
	for _, r := range results {
		fmt.Fprintln(w, r.Line())
		if !r.OK {
			failed++
		}
	}
	return failed
}

// problems collects what one check found wrong, with the fixes.
type problems struct {
	details, fixes []string
}

func (p *problems) add(detail, fix string) {
	p.details = append(p.details, detail)
	for _, f := range p.fixes {
		if f == fix {
			return
		}
	}
	p.fixes = append(p.fixes, fix)
}

func (p *problems) any() bool { return len(p.details) > 0 }

// result is FAIL with the problems when there are any, else PASS with ok.
func (p *problems) result(check, ok string) Result {
	if p.any() {
		return Result{Check: check, Detail: strings.Join(p.details, "; "), Fix: strings.Join(p.fixes, "; then ")}
	}
	return Result{Check: check, OK: true, Detail: ok}
}

// fail is a FAIL result.
func fail(check, detail, fix string) Result { return Result{Check: check, Detail: detail, Fix: fix} }

// apiFix is the fix for an AWS call that failed.
func apiFix(call string) string {
	return fmt.Sprintf("check that your principal may call %s (read-only), then run verify again", call)
}

// callFailed is the FAIL line of check when the AWS call action
// ("service:Operation", also the IAM action it needs) on target answered
// err; more ends the fix ("" or ifMissing's).
func callFailed(check, action, target string, err error, more string) Result {
	_, op, _ := strings.Cut(action, ":")
	return fail(check, fmt.Sprintf("%s %s: %v", op, target, err), apiFix(action)+more)
}

// ifMissing ends the fix of a failed call: what may not exist, and layer
// makes it.
func (v *Verifier) ifMissing(what, layer string) string {
	return fmt.Sprintf("; if %s does not exist, deploy the %s layer (%s)", what, layer, v.up(layer))
}
