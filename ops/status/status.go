// Package status reads and drives the rotation of an environment's database
// secret: `mage status` shows whether rotation is on, its schedule, the last
// and next rotation and every version's stages, and flags an AWSPENDING left
// behind by a failed rotation together with the fix; `mage rotate` starts a
// rotation and follows it until it has finished or is known to be stuck.
//
// It speaks to Secrets Manager through the aws-sdk-go-v2 client, so it works
// the same against AWS and against the local emulator (functions/rotator/smlocal) when
// SECRETS_MANAGER_ENDPOINT points there.
package status

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Stage labels that rotation moves ("Secrets Manager staging labels").
const (
	Current  = "AWSCURRENT"
	Pending  = "AWSPENDING"
	Previous = "AWSPREVIOUS"
)

// RunbookStuckPending is where an operator reads how to finish or abandon an
// unfinished rotation.
const RunbookStuckPending = "docs/runbooks.md#stuck-awspending"

// RunbookFailedRotation is where an operator reads what a failed rotation
// needs.
const RunbookFailedRotation = "docs/runbooks.md#failed-rotation"

// API is the part of the Secrets Manager client this package uses.
type API interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	ListSecretVersionIds(ctx context.Context, in *secretsmanager.ListSecretVersionIdsInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretVersionIdsOutput, error)
	RotateSecret(ctx context.Context, in *secretsmanager.RotateSecretInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error)
}

// Version is one labelled version of the secret.
type Version struct {
	// ID is the version id (the rotation's ClientRequestToken).
	ID string
	// Stages are its staging labels.
	Stages []string
	// Created is when the version was created (nil if unknown).
	Created *time.Time
}

// Has reports whether the version carries stage.
func (v Version) Has(stage string) bool { return slices.Contains(v.Stages, stage) }

// State is the rotation state of a secret.
type State struct {
	ARN, Name string
	// RotationEnabled is DescribeSecret's RotationEnabled.
	RotationEnabled bool
	// Schedule describes RotationRules ("" when none).
	Schedule string
	// RotatorARN is the rotation function.
	RotatorARN string
	// LastRotated, NextRotation and LastChanged are DescribeSecret's dates.
	LastRotated, NextRotation, LastChanged *time.Time
	// Versions are the labelled versions, AWSCURRENT first.
	Versions []Version
	// Unfinished is the version holding AWSPENDING without AWSCURRENT: a
	// rotation that has not finished (running now, or failed).
	Unfinished *Version
	// Read is when Describe read the secret (zero: Problems does not
	// judge the dates).
	Read time.Time
}

// Version returns the version with id, if listed.
func (s State) Version(id string) (Version, bool) {
	for _, v := range s.Versions {
		if v.ID == id {
			return v, true
		}
	}
	return Version{}, false
}

// Holder returns the version that carries stage, if any.
func (s State) Holder(stage string) (Version, bool) {
	for _, v := range s.Versions {
		if v.Has(stage) {
			return v, true
		}
	}
	return Version{}, false
}

// Describe reads the rotation state of secretID (name or ARN).
func Describe(ctx context.Context, api API, secretID string) (State, error) {
	d, err := api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretID)})
	if err != nil {
		return State{}, fmt.Errorf("DescribeSecret %s: %w", secretID, err)
	}
	s := State{
		ARN:             aws.ToString(d.ARN),
		Name:            aws.ToString(d.Name),
		RotationEnabled: aws.ToBool(d.RotationEnabled),
		RotatorARN:      aws.ToString(d.RotationLambdaARN),
		LastRotated:     d.LastRotatedDate,
		NextRotation:    d.NextRotationDate,
		LastChanged:     d.LastChangedDate,
		Read:            time.Now(),
	}
	if r := d.RotationRules; r != nil {
		var parts []string
		if r.AutomaticallyAfterDays != nil {
			parts = append(parts, fmt.Sprintf("every %d days", *r.AutomaticallyAfterDays))
		}
		if r.ScheduleExpression != nil {
			parts = append(parts, *r.ScheduleExpression)
		}
		if r.Duration != nil {
			parts = append(parts, "window "+*r.Duration)
		}
		s.Schedule = strings.Join(parts, ", ")
	}
	created := map[string]*time.Time{}
	// The SDK's paginator ends the list on a missing or empty token, and on
	// a repeated one (StopOnDuplicateToken).
	pages := secretsmanager.NewListSecretVersionIdsPaginator(api, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(secretID)},
		func(o *secretsmanager.ListSecretVersionIdsPaginatorOptions) { o.StopOnDuplicateToken = true })
	for pages.HasMorePages() {
		l, err := pages.NextPage(ctx)
		if err != nil {
			return State{}, fmt.Errorf("ListSecretVersionIds %s: %w", secretID, err)
		}
		for _, v := range l.Versions {
			created[aws.ToString(v.VersionId)] = v.CreatedDate
		}
	}
	for id, stages := range d.VersionIdsToStages {
		s.Versions = append(s.Versions, Version{ID: id, Stages: slices.Sorted(slices.Values(stages)), Created: created[id]})
	}
	slices.SortFunc(s.Versions, func(a, b Version) int {
		if r := rank(a) - rank(b); r != 0 {
			return r
		}
		return strings.Compare(a.ID, b.ID)
	})
	for i, v := range s.Versions {
		if v.Has(Pending) && !v.Has(Current) {
			s.Unfinished = &s.Versions[i]
		}
	}
	return s, nil
}

// rank orders versions: AWSCURRENT, AWSPENDING, AWSPREVIOUS, the rest.
func rank(v Version) int {
	for i, st := range []string{Current, Pending, Previous} {
		if v.Has(st) {
			return i
		}
	}
	return 3
}

// overdueAfter is how long past NextRotationDate a rotation counts as
// missed: the rest of its UTC day and the service's scheduling delay.
const overdueAfter = 26 * time.Hour

// Redeploy is the command that deploys layer of environment env again and
// so puts its settings back after a change outside Pulumi: the deploy
// compares the program with Pulumi's state, not with AWS, so the state is
// refreshed first. status and verify both give it.
func Redeploy(env, layer string) string {
	return fmt.Sprintf("ENV=%s go run mage.go up:%s, after (cd stacks/%s && pulumi refresh --yes --stack <org>/vault-%s/%s)", env, layer, layer, layer, env)
}

// redeploy is Redeploy of the secrets layer, for an environment status
// does not know.
var redeploy = "deploy the secrets layer again: " + Redeploy("<env>", "secrets")

// Problems returns one line per problem with what to do about it.
func (s State) Problems() []string {
	var out []string
	if !s.RotationEnabled {
		out = append(out, "rotation is off: "+redeploy+", which turns it on")
	}
	if s.RotatorARN == "" {
		out = append(out, "no rotation function is set: "+redeploy)
	}
	if _, ok := s.Holder(Current); !ok {
		out = append(out, "no version holds AWSCURRENT: applications cannot read the secret; see docs/runbooks.md#rolling-back-to-awsprevious")
	}
	// A rotation window closes at the end of its UTC day
	// (RotationRulesType), and "If rotation is unsuccessful, this date may
	// be in the past" (DescribeSecret, NextRotationDate): a day past it,
	// the scheduled rotation failed or never started.
	if due, ok := s.Overdue(); ok {
		out = append(out, fmt.Sprintf("the rotation due %s has not happened: a scheduled rotation failed or did not start; see %s", due.UTC().Format(time.RFC3339), RunbookFailedRotation))
	}
	if v := s.Unfinished; v != nil {
		out = append(out, PendingFix(s, *v))
	}
	return out
}

// Overdue is the date of a scheduled rotation that has not happened a
// day after it (overdueAfter): rotation is on, and NextRotationDate is that
// far before Read. A rotation window closes at the end of its UTC day
// (RotationRulesType), and "If rotation is unsuccessful, this date may be
// in the past" (DescribeSecret, NextRotationDate).
func (s State) Overdue() (time.Time, bool) {
	n := s.NextRotation
	if !s.RotationEnabled || n == nil || s.Read.IsZero() || !n.Add(overdueAfter).Before(s.Read) {
		return time.Time{}, false
	}
	return *n, true
}

// PendingFix is the message for an AWSPENDING that outlived its rotation.
func PendingFix(s State, v Version) string {
	since := ""
	if v.Created != nil {
		since = " since " + v.Created.UTC().Format(time.RFC3339)
	}
	logs := "the rotator's log group"
	if fn := functionName(s.RotatorARN); fn != "" {
		logs = "aws logs tail " + shellWord("/aws/lambda/"+fn) + " --since 2h"
	}
	// The version id is the caller's ClientRequestToken: quoted, so that
	// pasting it into a shell runs nothing.
	id := shellWord(v.ID)
	return fmt.Sprintf("unfinished rotation: version %s holds AWSPENDING%s (a rotation failed or is still running: Secrets Manager retries a failed rotation during the rotation window, until the end of its UTC day); "+
		"read the rotator's log (%s), fix the cause, then finish that version as %s says (re-invoke the steps with ClientRequestToken %s); "+
		"do not just remove the label: setSecret may already have set its password", id, since, logs, RunbookStuckPending, id)
}

// shellWord quotes s for a POSIX shell unless it needs none.
func shellWord(s string) string {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(":/_+=.@-", c)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}

func functionName(arn string) string {
	if i := strings.LastIndex(arn, ":function:"); i >= 0 {
		return strings.SplitN(arn[i+len(":function:"):], ":", 2)[0]
	}
	return ""
}

// Print writes the state as an operator reads it.
func (s State) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	on := "off"
	if s.RotationEnabled {
		on = "on"
	}
	fmt.Fprintf(tw, "secret\t%s\n", s.ARN)
	fmt.Fprintf(tw, "name\t%s\n", s.Name)
	fmt.Fprintf(tw, "rotation\t%s\n", on)
	fmt.Fprintf(tw, "schedule\t%s\n", orDash(s.Schedule))
	fmt.Fprintf(tw, "rotator\t%s\n", orDash(s.RotatorARN))
	fmt.Fprintf(tw, "last rotated\t%s\n", date(s.LastRotated))
	fmt.Fprintf(tw, "next rotation\t%s\n", date(s.NextRotation))
	fmt.Fprintf(tw, "last changed\t%s\n", date(s.LastChanged))
	_ = tw.Flush()
	fmt.Fprintln(w, "versions:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  VERSION\tSTAGES\tCREATED")
	for _, v := range s.Versions {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.ID, strings.Join(v.Stages, ","), date(v.Created))
	}
	_ = tw.Flush()
	problems := s.Problems()
	if len(problems) == 0 {
		fmt.Fprintln(w, "status: OK")
		return
	}
	for _, p := range problems {
		fmt.Fprintf(w, "PROBLEM: %s\n", p)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func date(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// Follow bounds how Rotate follows a rotation.
type Follow struct {
	// Interval between two DescribeSecret calls (default 2 s).
	Interval time.Duration
	// Timeout is how long the new version may keep AWSPENDING before the
	// rotation counts as stuck (default 15 minutes: four steps, each up to
	// the function's timeout, 60 s as the secrets layer deploys it, plus
	// the service's scheduling delay and a retry or two of a failed step).
	Timeout time.Duration
	// Out receives a line whenever the version's stages change (nil: none).
	Out io.Writer
}

// ErrUnfinished marks a rotation that is still pending (refused before
// start, or stuck after it).
var ErrUnfinished = errors.New("unfinished rotation")

// Rotate starts a rotation of secretID now and follows it: it returns the
// final state once the new version holds AWSCURRENT, or an error wrapping
// ErrUnfinished if its AWSPENDING outlives f.Timeout (the service reports a
// failed step only through CloudTrail, never through the API, so a pending
// label that stays is the failure signal). It refuses to start while an
// earlier rotation is unfinished, as the service would.
func Rotate(ctx context.Context, api API, secretID string, f Follow) (State, error) {
	if f.Interval <= 0 {
		f.Interval = 2 * time.Second
	}
	if f.Timeout <= 0 {
		f.Timeout = 15 * time.Minute
	}
	out := f.Out
	if out == nil {
		out = io.Discard
	}
	before, err := Describe(ctx, api, secretID)
	if err != nil {
		return State{}, err
	}
	if v := before.Unfinished; v != nil {
		return before, fmt.Errorf("rotate refused: %w: %s", ErrUnfinished, PendingFix(before, *v))
	}
	if before.RotatorARN == "" {
		return before, errors.New("rotate refused: the secret has no rotation function; deploy the secrets layer first")
	}
	// RotateSecret starts a rotation "with the values already stored", and
	// it is how rotation is turned back on ("To turn on automatic rotation
	// again, call RotateSecret":
	// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CancelRotateSecret.html):
	// a rotation that someone turned off is an incident to understand
	// first, not to undo as a side effect.
	if !before.RotationEnabled {
		return before, errors.New("rotate refused: rotation of this secret is off (CancelRotateSecret, or never turned on), and RotateSecret may turn it back on; find out why it is off first (docs/runbooks.md, an alert says a secret's policy, rotation or replication was changed), then " + redeploy)
	}
	r, err := api.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(before.ARN)})
	if err != nil {
		return before, fmt.Errorf("RotateSecret: %w", err)
	}
	token := aws.ToString(r.VersionId)
	fmt.Fprintf(out, "rotation started: version %s\n", token)
	start := time.Now()
	deadline := time.NewTimer(f.Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(f.Interval)
	defer tick.Stop()
	last := ""
	for {
		s, err := Describe(ctx, api, before.ARN)
		if err != nil {
			return s, err
		}
		v, ok := s.Version(token)
		stages := strings.Join(v.Stages, ",")
		if stages != last {
			fmt.Fprintf(out, "version %s: %s (%s)\n", token, orDash(stages), time.Since(start).Round(time.Millisecond))
			last = stages
		}
		switch {
		case ok && v.Has(Current):
			fmt.Fprintf(out, "rotation finished in %s: version %s is AWSCURRENT\n", time.Since(start).Round(time.Millisecond), token)
			return s, nil
		case !ok || !v.Has(Pending):
			return s, fmt.Errorf("rotation of version %s ended without AWSCURRENT (stages: %s): another actor moved the labels; run status", token, orDash(stages))
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-deadline.C:
			return s, fmt.Errorf("rotation did not finish within %s: %w: %s", f.Timeout, ErrUnfinished, PendingFix(s, v))
		case <-tick.C:
		}
	}
}
