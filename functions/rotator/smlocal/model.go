package smlocal

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The staging labels that Secrets Manager itself moves ("Concepts: Version",
// Secrets Manager User Guide; UpdateSecretVersionStage).
const (
	stageCurrent  = "AWSCURRENT"
	stagePrevious = "AWSPREVIOUS"
	stagePending  = "AWSPENDING"
)

// secret is one secret with its versions. Fields are exported (with JSON
// tags) only so that the state file can hold them; the type stays private.
type secret struct {
	ARN               string         `json:"arn"`
	Name              string         `json:"name"`
	Description       *string        `json:"description,omitempty"`
	KmsKeyID          string         `json:"kmsKeyId,omitempty"`
	Created           time.Time      `json:"created"`
	LastChanged       time.Time      `json:"lastChanged"`
	LastAccessed      *time.Time     `json:"lastAccessed,omitempty"`
	LastRotated       *time.Time     `json:"lastRotated,omitempty"`
	RotationEnabled   bool           `json:"rotationEnabled,omitempty"`
	RotationLambdaARN string         `json:"rotationLambdaArn,omitempty"`
	RotationRules     *rotationRules `json:"rotationRules,omitempty"`
	Tags              []tag          `json:"tags,omitempty"`
	Policy            string         `json:"policy,omitempty"`
	Versions          []*version     `json:"versions"` // in creation order
	// Pruned remembers the ids of versions pruneDeprecated removed while
	// younger than 24 hours, with their creation time: AWS keeps such a
	// version (so its token cannot be reused with another value), the
	// emulator does not, and refuses the token instead.
	Pruned map[string]time.Time `json:"pruned,omitempty"`
}

// version is one version of a secret. A version without a value is the
// placeholder that RotateSecret registers before createSecret puts the value.
type version struct {
	ID           string     `json:"id"`
	String       *string    `json:"string,omitempty"`
	Binary       []byte     `json:"binary,omitempty"`
	Stages       []string   `json:"stages,omitempty"`
	Created      time.Time  `json:"created"`
	LastAccessed *time.Time `json:"lastAccessed,omitempty"`
}

type rotationRules struct {
	AutomaticallyAfterDays *int64  `json:"AutomaticallyAfterDays,omitempty"`
	Duration               *string `json:"Duration,omitempty"`
	ScheduleExpression     *string `json:"ScheduleExpression,omitempty"`
}

type tag struct {
	Key   *string `json:"Key,omitempty"`
	Value *string `json:"Value,omitempty"`
}

func (v *version) hasValue() bool { return v.String != nil || v.Binary != nil }

// sameValue reports whether the version holds exactly this value (the
// ClientRequestToken idempotency check of CreateSecret and PutSecretValue).
func (v *version) sameValue(str *string, bin []byte) bool {
	if (v.String == nil) != (str == nil) || (v.Binary == nil) != (bin == nil) {
		return false
	}
	if str != nil && *v.String != *str {
		return false
	}
	return bytes.Equal(v.Binary, bin)
}

func (v *version) has(stage string) bool { return slices.Contains(v.Stages, stage) }

func (v *version) remove(stage string) {
	v.Stages = slices.DeleteFunc(v.Stages, func(s string) bool { return s == stage })
}

func (sec *secret) version(id string) *version {
	for _, v := range sec.Versions {
		if v.ID == id {
			return v
		}
	}
	return nil
}

// holder returns the version that carries stage, or nil: a staging label is
// on at most one version at a time (UpdateSecretVersionStage: "Each staging
// label can be attached to only one version at a time").
func (sec *secret) holder(stage string) *version {
	for _, v := range sec.Versions {
		if v.has(stage) {
			return v
		}
	}
	return nil
}

// moveStage attaches stage to to, removing it from the version that had it.
// Moving AWSCURRENT moves AWSPREVIOUS to the version AWSCURRENT left
// (PutSecretValue and UpdateSecretVersionStage: "Secrets Manager
// automatically moves the label AWSPREVIOUS to the version that AWSCURRENT
// was removed from").
func (sec *secret) moveStage(stage string, to *version) {
	from := sec.holder(stage)
	if from == to {
		return
	}
	if from != nil {
		from.remove(stage)
	}
	to.Stages = append(to.Stages, stage)
	if stage == stageCurrent && from != nil {
		if p := sec.holder(stagePrevious); p != nil {
			p.remove(stagePrevious)
		}
		from.Stages = append(from.Stages, stagePrevious)
	}
}

// maxVersions is the quota "versions per secret" (Secrets Manager quotas);
// beyond it the oldest deprecated versions (no staging label) are removed
// (PutSecretValue: "Secrets Manager removes outdated versions when there are
// more than 100").
const maxVersions = 100

// pruneDeprecated removes the oldest versions without staging labels while
// the secret has more than maxVersions. AWS spares versions younger than 24
// hours; the emulator does not, so that long local runs (benchmarks, chaos)
// never hit the quota. docs/testing.md lists this deviation.
func (sec *secret) pruneDeprecated(now time.Time) {
	for id, created := range sec.Pruned {
		if now.Sub(created) >= tokenReuseWindow {
			delete(sec.Pruned, id)
		}
	}
	for len(sec.Versions) > maxVersions {
		i := slices.IndexFunc(sec.Versions, func(v *version) bool { return len(v.Stages) == 0 })
		if i < 0 {
			return
		}
		if v := sec.Versions[i]; now.Sub(v.Created) < tokenReuseWindow {
			if sec.Pruned == nil {
				sec.Pruned = map[string]time.Time{}
			}
			sec.Pruned[v.ID] = v.Created
		}
		sec.Versions = slices.Delete(sec.Versions, i, i+1)
	}
}

// tokenReuseWindow: AWS "does not remove versions created less than 24
// hours ago" (PutSecretValue), so for 24 hours a version's token stays
// taken.
const tokenReuseWindow = 24 * time.Hour

// prunedRecently reports whether id is a token of a version pruned while
// younger than tokenReuseWindow, which is still within it.
func (sec *secret) prunedRecently(id string, now time.Time) bool {
	created, ok := sec.Pruned[id]
	return ok && now.Sub(created) < tokenReuseWindow
}

// stagesMap is VersionIdsToStages: only versions that carry a label
// (DescribeSecret, VersionIdsToStages: "versions of the secret that have
// staging labels attached. Versions that don't have staging labels are
// considered deprecated").
func (sec *secret) stagesMap() map[string][]string {
	m := map[string][]string{}
	for _, v := range sec.Versions {
		if len(v.Stages) > 0 {
			m[v.ID] = slices.Clone(v.Stages)
		}
	}
	return m
}

// rotationPending reports whether an earlier rotation is unfinished: some
// version other than AWSCURRENT carries AWSPENDING (RotateSecret: "If the
// AWSPENDING staging label is present but not attached to the same version
// as AWSCURRENT, then any later invocation of RotateSecret assumes that a
// previous rotation request is still in progress and returns an error").
func (sec *secret) rotationPending() bool {
	p := sec.holder(stagePending)
	return p != nil && !p.has(stageCurrent)
}

// partialARN is the ARN without the random 6-character suffix ("Finding a
// secret from a partial ARN", Secrets Manager User Guide).
func (sec *secret) partialARN() string {
	return sec.ARN[:len(sec.ARN)-7]
}

// nextRotation is NextRotationDate: the schedule applied to the last
// rotation (or to now, before the first). cron() schedules are not computed
// (docs/testing.md lists this gap).
func (sec *secret) nextRotation(now time.Time) *time.Time {
	if !sec.RotationEnabled || sec.RotationRules == nil {
		return nil
	}
	base := now
	if sec.LastRotated != nil {
		base = *sec.LastRotated
	}
	var d time.Duration
	switch r := sec.RotationRules; {
	case r.AutomaticallyAfterDays != nil:
		d = time.Duration(*r.AutomaticallyAfterDays) * 24 * time.Hour
	case r.ScheduleExpression != nil:
		n, unit, ok := parseRate(*r.ScheduleExpression)
		if !ok {
			return nil
		}
		d = time.Duration(n) * unit
	default:
		return nil
	}
	t := base.Add(d)
	return &t
}

// parseRate reads "rate(N hours)" or "rate(N days)" (Secrets Manager User
// Guide, "Schedule expressions in Secrets Manager rotation").
func parseRate(expr string) (int64, time.Duration, bool) {
	inner, ok := strings.CutPrefix(expr, "rate(")
	if !ok {
		return 0, 0, false
	}
	inner, ok = strings.CutSuffix(inner, ")")
	if !ok {
		return 0, 0, false
	}
	num, unit, ok := strings.Cut(strings.TrimSpace(inner), " ")
	if !ok {
		return 0, 0, false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 1 {
		return 0, 0, false
	}
	switch unit {
	case "hour", "hours":
		return n, time.Hour, true
	case "day", "days":
		return n, 24 * time.Hour, true
	}
	return 0, 0, false
}

// epoch is a timestamp as AWS JSON 1.1 sends it: seconds since the epoch,
// as a JSON number with a fractional part.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(e).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

func epochPtr(t *time.Time) *epoch {
	if t == nil {
		return nil
	}
	e := epoch(*t)
	return &e
}

// day truncates to the UTC day: LastAccessedDate has day granularity
// (DescribeSecret, LastAccessedDate: "rounded down to the nearest day").
func day(t time.Time) time.Time {
	return t.UTC().Truncate(24 * time.Hour)
}
