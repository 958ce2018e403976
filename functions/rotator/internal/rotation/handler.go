// Package rotation is the rotation function: the handler that Secrets
// Manager invokes four times per rotation (createSecret, setSecret,
// testSecret, finishSecret), one function per step, with the strategy that
// decides whose password changes (single user, alternating users, or
// declared users).
//
// Every step is idempotent and safe to run again after a crash at any point:
// createSecret reuses the AWSPENDING value of its token, setSecret first
// tries the AWSPENDING password, finishSecret does nothing when the token is
// already AWSCURRENT. Every error leaving the handler passes through a
// redactor that knows each secret value the invocation read or made.
//
// # Declared users
//
// A secret whose Name (from DescribeSecret) is a key of Config.AppUsers is
// an application user that the deployer declared: its user name, its
// database and its privileges live in the function's environment
// (APP_USERS), which only the deployer can change
// (lambda:UpdateFunctionConfiguration). Its first version carries no
// password (nothing secret in the deployer's state); the first rotation
// creates the declared user with the master secret (the RDS-managed secret
// of the cluster's master user, which the rotator only reads), later ones
// alternate between the user and the user plus CLONE_SUFFIX. Every
// setSecret makes the pending user's privileges exactly the declared ones
// on the declared database (missing ones granted, anything else revoked,
// a declared privilege never revoked), so a changed declaration reaches the
// next pending user, and a crash between creating the account and granting
// is repaired on the retry.
//
// Why reading or writing the secret gives no more privilege: the rotator
// never takes privileges, the database or the user pair from a declared
// secret's value; an AWSCURRENT that names any other user than the declared
// one or its clone is refused; the master is always MASTER_SECRET_ARN's when
// that is set (the secret's masterarn only records it), so a writer cannot
// lend the rotator another master. A principal that can only read the
// secret learns the password of an account with the declared privileges,
// which is what the secret is for. One that can write it (but is not the
// deployer) cannot choose the user, its privileges or the master; it can
// make the rotation fail. Its one remaining lever would be host and port,
// which the RDS-managed master secret does not name: the rotator would log
// in with the master secret at that address. Config.DBHost and DBPort
// (DB_HOST, DB_PORT, which the secrets layer sets to the cluster's writer
// endpoint) close it: when set, every login of a declared secret's rotation
// goes to DB_HOST:DB_PORT, whatever address AWSCURRENT or AWSPREVIOUS
// names, and the version the rotation writes carries DB_HOST (so a secret
// follows a replaced cluster from its next rotation on); an AWSPENDING
// naming another address, which only a crafted value can, is refused
// before any login. Without them, keep write access to the secret with the
// deployer and the rotator.
//
// # Which accounts are the vault's
//
// The record of what the vault provisioned is the secret's own history,
// not a password that still works. Only the rotator and the administrators
// can write the secret or move its labels (its resource policy); readers
// cannot. The rotator moves AWSCURRENT only to a version whose password it
// logged in with after provisioning the account. So an existing account
// is the vault's when AWSCURRENT or AWSPREVIOUS names that user on the
// same server with a password (the deployer's first version has none), or
// a version newer than AWSCURRENT names it and its password logs in (a
// rotation cancelled before finishSecret), or the AWSPENDING password of
// this rotation logs in to it (a retry, or another invocation of the same
// step that created it meanwhile). A reader cannot forge or erase that
// record: changing its password changes nothing in it. Any other existing
// account is refused and never touched, with a message naming it and the
// fix. The same rule holds for the alternating users of an AWS-shaped
// secret (masterarn, not declared), whose new user gets the grants of the
// current one.
//
// # What every rotation resets
//
// setSecret resets the pending account without needing any stored password
// to work: one login method with the AWSPENDING password (a second method,
// a MySQL 8 secondary password or a password someone set are gone),
// unlocked; for declared users also no TLS requirement of its own (the
// cluster requires TLS of every connection), no resource limits, no role
// and no default role, exactly the declared grants; for alternating users
// the grants, TLS requirement and limits of AWSCURRENT's account. It reads
// the account back and fails naming any property that differs. For a
// declared secret it also resets AWSCURRENT's account with AWSCURRENT's
// own password (unchanged for applications; privileges a shrunk
// declaration dropped stay until that account's next turn), and logs a
// warning when that password had stopped working. A declared user name
// (or its clone) that exists at another host than % is refused on every
// rotation: a login from that host would be authenticated as the other
// account.
//
// For an AWS-shaped alternating secret, an AWSCURRENT password that the
// database rejects is not restored: the secret names the account, and
// anyone who may write the secret could name another, so the rotation
// stops with the fix (aws.go, as AWS's template does).
//
// What it cannot prevent: a reader can still change AWSCURRENT's password
// between two rotations and lock the other readers out until the next
// rotation, which restores it (the operator's response is to rotate at
// once).
package rotation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/appusers"
	"github.com/dbvault/dbvault/functions/rotator/checkpoint"
	"github.com/dbvault/dbvault/functions/rotator/internal/database"
	"github.com/dbvault/dbvault/functions/rotator/internal/redact"
)

// The staging labels of the rotation contract.
const (
	StageCurrent  = "AWSCURRENT"
	StagePending  = "AWSPENDING"
	StagePrevious = "AWSPREVIOUS"
)

// The steps, as Secrets Manager names them in the event.
const (
	StepCreate = "createSecret"
	StepSet    = "setSecret"
	StepTest   = "testSecret"
	StepFinish = "finishSecret"
)

// SecretsManager is the part of the Secrets Manager API the rotator calls;
// *secretsmanager.Client implements it.
type SecretsManager interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	GetRandomPassword(ctx context.Context, in *secretsmanager.GetRandomPasswordInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetRandomPasswordOutput, error)
	UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
	// ListSecretVersionIds (IAM action secretsmanager:ListSecretVersionIds)
	// finds the unlabelled versions that an unfinished rotation left.
	ListSecretVersionIds(ctx context.Context, in *secretsmanager.ListSecretVersionIdsInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretVersionIdsOutput, error)
}

// PasswordPolicy is what GetRandomPassword is asked for.
type PasswordPolicy struct {
	Length                  int64
	ExcludeCharacters       string
	ExcludeNumbers          bool
	ExcludePunctuation      bool
	ExcludeUppercase        bool
	ExcludeLowercase        bool
	IncludeSpace            bool
	RequireEachIncludedType bool
}

// Config is the handler's behaviour, from the function's environment.
type Config struct {
	Password PasswordPolicy
	// CloneSuffix makes the alternate user's name (alternating users).
	CloneSuffix string
	// MasterSecretARN (MASTER_SECRET_ARN), when set, is the only master
	// secret a declared secret may name in masterarn.
	MasterSecretARN string
	// AppUsers (APP_USERS) are the declared application users, keyed by
	// secret name: a secret whose Name is a key is rotated as that
	// declaration says (declared users), whatever its value claims.
	AppUsers map[string]appusers.User
	// DeclaredOnly (DECLARED_ONLY) refuses every secret whose name is not
	// a key of AppUsers, before its value is read: the vault's rotator
	// rotates only the vault's own secrets. Its role may then name them by
	// a pattern, and a secret created by someone else under a matching
	// name, pointed at this function, still gets nothing from it (no
	// master login, no account).
	DeclaredOnly bool
	// DBHost and DBPort (DB_HOST, DB_PORT), when DBHost is set, are the
	// only server a declared secret may name and the only one a master
	// login goes to.
	DBHost string
	DBPort int
}

// Handler rotates a secret, one step per invocation.
type Handler struct {
	SM     SecretsManager
	DB     database.Database
	Config Config
	// Log receives one line per invocation and one per notable decision.
	// Nil means slog.Default().
	Log *slog.Logger
	// Checkpoint, when set, is told every named point between two Secrets
	// Manager calls or SQL statements (checkpoint.Names), the database's
	// included; a non-nil error stops the step there, as a crash would.
	// Nil leaves the points to the build (see package checkpoint).
	Checkpoint checkpoint.Func
}

// MaxDeadlineMargin is how long before the invocation's deadline a step
// stops at most: a tenth of the time left, up to this. aws-lambda-go sets
// the context's deadline to the moment Lambda ends the invocation
// (lambda/invoke_loop.go), so a step that ran until then would be killed
// before its error and its log line were written.
const MaxDeadlineMargin = 3 * time.Second

// stepContext is ctx with a deadline a margin before ctx's, if it has one.
func stepContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	margin := min(time.Until(deadline)/10, MaxDeadlineMargin)
	return context.WithDeadline(ctx, deadline.Add(-margin))
}

// Handle runs one step of a rotation. Its signature is the typed handler
// that lambda.Start takes; the invocation's deadline is in ctx, and the
// step stops a little before it (stepContext) so that its failure is
// logged.
func (h *Handler) Handle(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) (err error) {
	start := time.Now()
	r := &run{deps: &deps{h: h, ev: ev, red: &redact.Redactor{}}}
	if h.Checkpoint != nil {
		ctx = checkpoint.With(ctx, h.Checkpoint)
	}
	parent := ctx
	ctx, cancel := stepContext(ctx)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: internal error (panic): %v", ev.Step, p)
		}
		err = r.red.Error(err)
		attrs := []any{
			slog.String("step", ev.Step),
			slog.String("secret", ev.SecretID),
			slog.String("version", ev.ClientRequestToken),
			slog.String("strategy", r.strategy),
			slog.String("user", r.user),
			slog.Int64("duration_ms", time.Since(start).Milliseconds()),
		}
		if err != nil {
			h.log().Error("rotation step failed", append(attrs, slog.String("outcome", "error"), slog.String("error", err.Error()))...)
			return
		}
		h.log().Info("rotation step done", append(attrs, slog.String("outcome", r.outcome))...)
	}()
	err = r.do(ctx)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && parent.Err() == nil {
		err = fmt.Errorf("%w (out of time: the step stops shortly before the function's timeout so that this is logged; Secrets Manager retries it)", err)
	}
	return err
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

// run is one invocation: what it works with (deps) and what its log line
// reports.
type run struct {
	*deps
	strategy string
	user     string
	outcome  string
}

func (r *run) do(ctx context.Context) error {
	ev := r.ev
	step := map[string]func(context.Context, *run) error{
		StepCreate: createSecret,
		StepSet:    setSecret,
		StepTest:   testSecret,
		StepFinish: finishSecret,
	}[ev.Step]
	if step == nil {
		return fmt.Errorf("unknown step %q: expected createSecret, setSecret, testSecret or finishSecret", ev.Step)
	}
	if ev.SecretID == "" || ev.ClientRequestToken == "" {
		return fmt.Errorf("%s: the event has no SecretId or no ClientRequestToken", ev.Step)
	}
	if err := r.guard(ctx); err != nil {
		return fmt.Errorf("%s: %w%s", ev.Step, err, r.stuck())
	}
	if r.outcome != "" {
		return nil // already AWSCURRENT
	}
	if err := step(ctx, r); err != nil {
		return fmt.Errorf("%s: %w%s", ev.Step, err, r.stuck())
	}
	if r.outcome == "" {
		r.outcome = "done"
	}
	return nil
}

// guard checks the version's stages before any step, as the rotation
// contract asks: rotation on, the token a version of the secret, that
// version AWSPENDING. A token that is already AWSCURRENT means the rotation
// finished: nothing to do.
func (r *run) guard(ctx context.Context) error {
	d, err := r.h.SM.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: &r.ev.SecretID})
	if err != nil {
		return fmt.Errorf("DescribeSecret %s: %w", r.ev.SecretID, err)
	}
	r.desc = d
	if err := checkpoint.Reach(ctx, checkpoint.AfterDescribe); err != nil {
		return err
	}
	if r.h.Config.DeclaredOnly {
		if _, ok := r.declaration(); !ok {
			return fmt.Errorf("secret %s is not one this function declares (DECLARED_ONLY): it rotates only the vault's own secrets; rotate this one with a function of its own", nameOf(d))
		}
	}
	if d.RotationEnabled != nil && !*d.RotationEnabled {
		return fmt.Errorf("rotation is not enabled for secret %s; turn it on with RotateSecret before invoking the function", r.ev.SecretID)
	}
	stages, ok := d.VersionIdsToStages[r.ev.ClientRequestToken]
	if !ok {
		return fmt.Errorf("version %s is not a version of secret %s: the event's ClientRequestToken must be the version that RotateSecret made", r.ev.ClientRequestToken, r.ev.SecretID)
	}
	if slices.Contains(stages, StageCurrent) {
		r.outcome = "already-current"
		return nil
	}
	if !slices.Contains(stages, StagePending) {
		return fmt.Errorf("version %s of secret %s is not AWSPENDING (its labels: %v); only a version that RotateSecret staged as AWSPENDING can be rotated to", r.ev.ClientRequestToken, r.ev.SecretID, stages)
	}
	return nil
}

// stuck is the tail of every step error while a version other than
// AWSCURRENT holds AWSPENDING (as the guard's DescribeSecret saw it): until
// that label goes, RotateSecret answers "A previous rotation isn't
// complete". It names the version, says to finish it, and gives the
// command that clears the label for the one case where that is safe: the
// version's password never worked (for a single user, setSecret may
// already have set it, and clearing the label would leave AWSCURRENT
// refused).
func (r *run) stuck() string {
	if r.desc == nil {
		return ""
	}
	for id, stages := range r.desc.VersionIdsToStages {
		if slices.Contains(stages, StagePending) && !slices.Contains(stages, StageCurrent) {
			return fmt.Sprintf(". The rotation is stuck at version %s (AWSPENDING): Secrets Manager retries it during the rotation window; if a retry cannot succeed, fix the cause and finish that version (docs/runbooks.md#stuck-awspending). Only if its password never worked (no value, or the database rejects it while AWSCURRENT still logs in), clear it with: aws secretsmanager update-secret-version-stage --secret-id %s --version-stage AWSPENDING --remove-from-version-id %s",
				id, shellWord(r.ev.SecretID), shellWord(id))
		}
	}
	return ""
}

// shellWord quotes s for a POSIX shell unless it needs none (an ARN may
// hold "!", as RDS's rds!cluster-... names do).
func shellWord(s string) string {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(":/_+=.@-", c)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}

// errNotFound tells whether a Secrets Manager error is ResourceNotFoundException.
func errNotFound(err error) bool {
	var nf interface{ ErrorCode() string }
	return errors.As(err, &nf) && nf.ErrorCode() == "ResourceNotFoundException"
}

// nameOf is the secret's name, for messages.
func nameOf(d *secretsmanager.DescribeSecretOutput) string {
	if d.Name == nil {
		return "(no name)"
	}
	return *d.Name
}
