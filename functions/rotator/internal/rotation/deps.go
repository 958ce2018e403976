package rotation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/dbvault/dbvault/functions/rotator/appusers"
	"github.com/dbvault/dbvault/functions/rotator/internal/database"
	"github.com/dbvault/dbvault/functions/rotator/internal/redact"
	"github.com/dbvault/dbvault/functions/rotator/internal/secret"
)

// deps is what the steps and the strategies work with during one
// invocation: the handler's clients and configuration, the event, the
// redactor that learns every secret value read or made, and the
// description the guard read. It reads and logs; it holds nothing of the
// rotation's progress (the step's outcome is run's).
type deps struct {
	h   *Handler
	ev  events.SecretsManagerSecretRotationEvent
	red *redact.Redactor
	// desc is the DescribeSecret answer read by the guard, before the step.
	desc *secretsmanager.DescribeSecretOutput
}

// getSecret reads and parses one version of a secret (by stage, and by id
// when versionID is set). Its passwords and value join the redactor before
// anything else happens with them.
func (r *deps) getSecret(ctx context.Context, id, stage, versionID string) (secret.Secret, error) {
	return r.getSecretAs(ctx, id, stage, versionID, secret.Parse)
}

// getCurrent reads AWSCURRENT of the secret being rotated; a declared
// secret's may be unprovisioned (no password yet).
func (r *deps) getCurrent(ctx context.Context) (secret.Secret, error) {
	parse := secret.Parse
	if _, ok := r.declaration(); ok {
		parse = secret.ParseUnprovisioned
	}
	return r.getSecretAs(ctx, r.ev.SecretID, StageCurrent, "", parse)
}

// getSecretAs is getSecret with a parser of the caller's choice.
func (r *deps) getSecretAs(ctx context.Context, id, stage, versionID string, parse func(string) (secret.Secret, error)) (secret.Secret, error) {
	in := &secretsmanager.GetSecretValueInput{SecretId: &id, VersionStage: &stage}
	if versionID != "" {
		in.VersionId = &versionID
	}
	out, err := r.h.SM.GetSecretValue(ctx, in)
	if err != nil && stage == StagePending && errNotFound(err) {
		return secret.Secret{}, fmt.Errorf("version %s has no AWSPENDING value yet (createSecret has not run for it, or failed): %w", versionID, err)
	}
	if err != nil {
		return secret.Secret{}, fmt.Errorf("GetSecretValue %s of %s: %w", stage, id, err)
	}
	value := aws.ToString(out.SecretString)
	r.red.Add(value)
	s, err := parse(value)
	if err != nil {
		return secret.Secret{}, fmt.Errorf("the %s value of %s (version %s): %w; fix the secret's value (and remove any AWSPENDING label it caused) before rotating again",
			stage, id, aws.ToString(out.VersionId), err)
	}
	r.red.Add(s.Password)
	return s, nil
}

// getVersion reads and parses one version by id alone (no stage: an
// unlabelled version has none).
func (r *deps) getVersion(ctx context.Context, versionID string) (secret.Secret, error) {
	out, err := r.h.SM.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &r.ev.SecretID, VersionId: &versionID})
	if err != nil {
		return secret.Secret{}, fmt.Errorf("GetSecretValue version %s of %s: %w", versionID, r.ev.SecretID, err)
	}
	value := aws.ToString(out.SecretString)
	r.red.Add(value)
	s, err := secret.Parse(value)
	if err != nil {
		return secret.Secret{}, fmt.Errorf("version %s of %s: %w", versionID, r.ev.SecretID, err)
	}
	r.red.Add(s.Password)
	return s, nil
}

// login opens a session with a secret's credentials.
func (r *deps) login(ctx context.Context, s secret.Secret) (database.Session, error) {
	return r.h.DB.Login(ctx, database.Login{Host: s.Host, Port: s.Port, User: s.Username, Password: s.Password, DBName: s.DBName})
}

func (r *deps) info(msg string, attrs ...any) {
	r.h.log().Info(msg, append([]any{slog.String("step", r.ev.Step), slog.String("secret", r.ev.SecretID), slog.String("version", r.ev.ClientRequestToken)}, attrs...)...)
}

// warn is info for what an operator should look into.
func (r *deps) warn(msg string, attrs ...any) {
	r.h.log().Warn(msg, append([]any{slog.String("step", r.ev.Step), slog.String("secret", r.ev.SecretID), slog.String("version", r.ev.ClientRequestToken)}, attrs...)...)
}

// logsIn reports whether s's credentials log in (without a default
// database). A refusal is false, and so is a password that has expired
// and that the server will not let log in (MySQL 8): the master that
// follows resets it; any other failure is an error.
func (r *deps) logsIn(ctx context.Context, s secret.Secret) (bool, error) {
	works, _, err := r.tryLogin(ctx, s)
	return works, err
}

// tryLogin is logsIn that also tells an expired password apart: the
// server accepted it (MySQL 8's error 1862 comes after the password is
// checked), so it proves whose the account is, but it logs in no one.
func (r *deps) tryLogin(ctx context.Context, s secret.Secret) (works, expired bool, err error) {
	if s.Password == "" {
		return false, false, nil
	}
	sess, err := r.h.DB.Login(ctx, database.Login{Host: s.Host, Port: s.Port, User: s.Username, Password: s.Password})
	switch {
	case errors.Is(err, database.ErrPasswordExpired):
		return false, true, nil
	case errors.Is(err, database.ErrLoginRejected):
		return false, false, nil
	case err != nil:
		return false, false, err
	}
	_ = sess.Close()
	return true, false, nil
}

// maxVersionPages bounds the pages of ListSecretVersionIds read: a secret
// keeps about 100 versions (those of the last 24 hours besides), so even
// pages of one version each end long before.
const maxVersionPages = 1000

// recentVersions lists the ids of the versions created after AWSCURRENT
// (labelled or not, the token being rotated excluded), newest first, at
// most maxRecentVersions.
func (r *deps) recentVersions(ctx context.Context) ([]string, error) {
	var all []smtypes.SecretVersionsListEntry
	in := &secretsmanager.ListSecretVersionIdsInput{SecretId: &r.ev.SecretID, IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(100)}
	// A page may hold fewer versions than asked, none at all, and still
	// not be the last ("NextToken can occur even when the response
	// includes no values at all",
	// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecretVersionIds.html):
	// the list ends where NextToken does. maxVersionPages only bounds a
	// service that never ends it.
	seen := map[string]bool{}
	for page := 0; ; page++ {
		if page == maxVersionPages {
			return nil, fmt.Errorf("ListSecretVersionIds %s: still more after %d pages", r.ev.SecretID, maxVersionPages)
		}
		out, err := r.h.SM.ListSecretVersionIds(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("ListSecretVersionIds %s: %w", r.ev.SecretID, err)
		}
		all = append(all, out.Versions...)
		next := aws.ToString(out.NextToken)
		if next == "" {
			break
		}
		if seen[next] {
			return nil, fmt.Errorf("ListSecretVersionIds %s: the service gave the same NextToken twice", r.ev.SecretID)
		}
		seen[next] = true
		in.NextToken = out.NextToken
	}
	var current *smtypes.SecretVersionsListEntry
	for i := range all {
		if slices.Contains(all[i].VersionStages, StageCurrent) {
			current = &all[i]
		}
	}
	if current == nil || current.CreatedDate == nil {
		return nil, errors.New("no AWSCURRENT version with a creation date in the list")
	}
	var newer []smtypes.SecretVersionsListEntry
	for _, v := range all {
		id := aws.ToString(v.VersionId)
		if id == "" || id == r.ev.ClientRequestToken || id == aws.ToString(current.VersionId) || v.CreatedDate == nil || v.CreatedDate.Before(*current.CreatedDate) {
			continue
		}
		newer = append(newer, v)
	}
	sort.SliceStable(newer, func(i, j int) bool { return newer[i].CreatedDate.After(*newer[j].CreatedDate) })
	var ids []string
	for _, v := range newer {
		if len(ids) == maxRecentVersions {
			break
		}
		ids = append(ids, aws.ToString(v.VersionId))
	}
	return ids, nil
}

// declaration is the declared application user of the secret being
// rotated, found by the secret's Name from DescribeSecret.
func (r *deps) declaration() (appusers.User, bool) {
	if r.desc == nil || r.desc.Name == nil {
		return appusers.User{}, false
	}
	u, ok := r.h.Config.AppUsers[*r.desc.Name]
	return u, ok
}
