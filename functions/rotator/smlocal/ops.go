package smlocal

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// handlerFunc runs one operation on a decoded body; it returns the output
// object or an AWS error.
type handlerFunc func(s *Server, ctx context.Context, body []byte) (any, *apiError)

// handlers is every operation the emulator answers, by name.
var handlers = map[string]handlerFunc{
	"CreateSecret":             (*Server).createSecret,
	"DescribeSecret":           (*Server).describeSecret,
	"GetSecretValue":           (*Server).getSecretValue,
	"PutSecretValue":           (*Server).putSecretValue,
	"UpdateSecret":             (*Server).updateSecret,
	"UpdateSecretVersionStage": (*Server).updateSecretVersionStage,
	"ListSecretVersionIds":     (*Server).listSecretVersionIds,
	"ListSecrets":              (*Server).listSecrets,
	"DeleteSecret":             (*Server).deleteSecret,
	"RestoreSecret":            (*Server).restoreSecret,
	"GetRandomPassword":        (*Server).getRandomPassword,
	"RotateSecret":             (*Server).rotateSecret,
	"CancelRotateSecret":       (*Server).cancelRotateSecret,
	"TagResource":              (*Server).tagResource,
	"UntagResource":            (*Server).untagResource,
	"PutResourcePolicy":        (*Server).putResourcePolicy,
	"GetResourcePolicy":        (*Server).getResourcePolicy,
	"DeleteResourcePolicy":     (*Server).deleteResourcePolicy,
}

// Operations returns the names of the operations the emulator implements.
func Operations() []string {
	names := make([]string, 0, len(handlers))
	for n := range handlers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// lockState takes the state lock and purges secrets whose recovery window
// has ended (DeleteSecret: "At the end of the recovery window, Secrets
// Manager deletes the secret permanently").
func (s *Server) lockState() time.Time {
	s.mu.Lock()
	now := s.now()
	kept := s.secrets[:0]
	for _, sec := range s.secrets {
		if sec.DeletionDate != nil && !now.Before(*sec.DeletionDate) {
			s.dirty = true
			continue
		}
		kept = append(kept, sec)
	}
	s.secrets = kept
	return now
}

// find resolves a SecretId: the name, the full ARN or a partial ARN (the
// ARN without its random suffix) ("Finding a secret from a partial ARN").
func (s *Server) find(id string) (*secret, *apiError) {
	for _, sec := range s.secrets {
		if sec.Name == id || sec.ARN == id {
			return sec, nil
		}
	}
	if strings.HasPrefix(id, "arn:") {
		for _, sec := range s.secrets {
			if sec.partialARN() == id {
				return sec, nil
			}
		}
	}
	return nil, newErr(codeResourceNotFound, "Secrets Manager can't find the specified secret.")
}

// findLive resolves a SecretId that must not be scheduled for deletion
// (DeleteSecret: "you can't ... access the secret ... during the recovery
// window"; the service answers InvalidRequestException).
func (s *Server) findLive(id string) (*secret, *apiError) {
	sec, err := s.find(id)
	if err != nil {
		return nil, err
	}
	if sec.DeletedAt != nil {
		return nil, newErr(codeInvalidRequest, "You can't perform this operation on the secret because it was marked for deletion.")
	}
	return sec, nil
}

// newARN mints arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX: the
// name plus a hyphen and six random characters (CreateSecret, ARN).
func (s *Server) newARN(name string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b [6]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", s.region, s.account, name, b[:])
}

// ---- CreateSecret ----

type createSecretInput struct {
	Name                        *string
	ClientRequestToken          *string
	Description                 *string
	KmsKeyId                    *string
	SecretString                *string
	SecretBinary                []byte
	Tags                        []tag
	AddReplicaRegions           []json.RawMessage
	ForceOverwriteReplicaSecret *bool
}

type createSecretOutput struct {
	ARN       string
	Name      string
	VersionId *string `json:",omitempty"`
}

func (s *Server) createSecret(_ context.Context, body []byte) (any, *apiError) {
	var in createSecretInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := firstErr(checkName(in.Name), checkToken("clientRequestToken", in.ClientRequestToken),
		length("description", in.Description, 0, 2048), length("kmsKeyId", in.KmsKeyId, 0, 2048),
		checkValue(in.SecretString, in.SecretBinary), checkTags(in.Tags)); err != nil {
		return nil, err
	}
	if len(in.AddReplicaRegions) > 0 {
		return nil, newErr(codeInvalidRequest, "smlocal does not emulate replica regions (AddReplicaRegions).")
	}
	now := s.lockState()
	defer s.mu.Unlock()
	for _, sec := range s.secrets {
		if sec.Name != *in.Name {
			continue
		}
		if sec.DeletedAt != nil {
			// CreateSecret, Errors: InvalidRequestException "You tried to
			// create a secret with the name of a secret scheduled for deletion".
			return nil, newErr(codeInvalidRequest, "You can't create this secret because a secret with this name is already scheduled for deletion.")
		}
		// CreateSecret, ClientRequestToken: a retry with the same token and
		// the same value is ignored; with another value it fails.
		if in.ClientRequestToken != nil && (in.SecretString != nil || in.SecretBinary != nil) {
			if v := sec.version(*in.ClientRequestToken); v != nil {
				if v.sameValue(in.SecretString, in.SecretBinary) {
					return createSecretOutput{ARN: sec.ARN, Name: sec.Name, VersionId: &v.ID}, nil
				}
				return nil, newErr(codeResourceExists, "You can't modify an existing version, you can only create a new version.")
			}
		}
		return nil, newErr(codeResourceExists, "The operation failed because the secret %s already exists.", *in.Name)
	}
	sec := &secret{
		ARN:         s.newARN(*in.Name),
		Name:        *in.Name,
		Description: in.Description,
		Created:     now,
		LastChanged: now,
		Tags:        mergeTags(nil, in.Tags),
	}
	if in.KmsKeyId != nil {
		sec.KmsKeyID = *in.KmsKeyId
	}
	out := createSecretOutput{ARN: sec.ARN, Name: sec.Name}
	// CreateSecret, SecretString/SecretBinary: with a value, the first
	// version is created and labelled AWSCURRENT; without one, the secret
	// has no version.
	if in.SecretString != nil || in.SecretBinary != nil {
		id := newUUID()
		if in.ClientRequestToken != nil {
			id = *in.ClientRequestToken
		}
		sec.Versions = []*version{{ID: id, String: in.SecretString, Binary: in.SecretBinary, Stages: []string{stageCurrent}, Created: now}}
		out.VersionId = &id
	}
	s.secrets = append(s.secrets, sec)
	s.dirty = true
	return out, nil
}

// ---- DescribeSecret and ListSecrets ----

type describeSecretInput struct {
	SecretId *string
}

// secretDescription is DescribeSecret's output and ListSecrets' entry
// (SecretListEntry, whose map is named SecretVersionsToStages).
type secretDescription struct {
	ARN                    string
	Name                   string
	Description            *string             `json:",omitempty"`
	KmsKeyId               *string             `json:",omitempty"`
	RotationEnabled        *bool               `json:",omitempty"`
	RotationLambdaARN      *string             `json:",omitempty"`
	RotationRules          *rotationRules      `json:",omitempty"`
	LastRotatedDate        *epoch              `json:",omitempty"`
	LastChangedDate        *epoch              `json:",omitempty"`
	LastAccessedDate       *epoch              `json:",omitempty"`
	DeletedDate            *epoch              `json:",omitempty"`
	NextRotationDate       *epoch              `json:",omitempty"`
	Tags                   []tag               `json:",omitempty"`
	VersionIdsToStages     map[string][]string `json:",omitempty"`
	SecretVersionsToStages map[string][]string `json:",omitempty"`
	CreatedDate            *epoch              `json:",omitempty"`
	PrimaryRegion          *string             `json:",omitempty"`
}

func (s *Server) describe(sec *secret, now time.Time) secretDescription {
	d := secretDescription{
		ARN:              sec.ARN,
		Name:             sec.Name,
		Description:      sec.Description,
		LastChangedDate:  epochPtr(&sec.LastChanged),
		LastAccessedDate: epochPtr(sec.LastAccessed),
		DeletedDate:      epochPtr(sec.DeletedAt),
		CreatedDate:      epochPtr(&sec.Created),
		Tags:             sec.Tags,
	}
	if sec.KmsKeyID != "" {
		d.KmsKeyId = &sec.KmsKeyID
	}
	// DescribeSecret, RotationEnabled / RotationLambdaARN / RotationRules /
	// LastRotatedDate / NextRotationDate: present once rotation was
	// configured; LastRotatedDate is null when rotation is disabled.
	if sec.RotationLambdaARN != "" || sec.RotationEnabled {
		enabled := sec.RotationEnabled
		d.RotationEnabled = &enabled
	}
	if sec.RotationLambdaARN != "" {
		d.RotationLambdaARN = &sec.RotationLambdaARN
	}
	d.RotationRules = sec.RotationRules
	if sec.RotationEnabled {
		d.LastRotatedDate = epochPtr(sec.LastRotated)
		d.NextRotationDate = epochPtr(sec.nextRotation(now))
	}
	return d
}

func (s *Server) describeSecret(_ context.Context, body []byte) (any, *apiError) {
	var in describeSecretInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkSecretID(in.SecretId); err != nil {
		return nil, err
	}
	now := s.lockState()
	defer s.mu.Unlock()
	// DescribeSecret works on a secret scheduled for deletion and shows
	// its DeletedDate.
	sec, err := s.find(*in.SecretId)
	if err != nil {
		return nil, err
	}
	d := s.describe(sec, now)
	d.VersionIdsToStages = sec.stagesMap()
	return d, nil
}

type listSecretsInput struct {
	Filters                []filter
	IncludePlannedDeletion *bool
	MaxResults             *int64
	NextToken              *string
	SortOrder              *string
	SortBy                 *string
}

type filter struct {
	Key    *string
	Values []string
}

type listSecretsOutput struct {
	SecretList []secretDescription
	NextToken  *string `json:",omitempty"`
}

func (s *Server) listSecrets(_ context.Context, body []byte) (any, *apiError) {
	var in listSecretsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	start, max, err := page(in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	if in.SortOrder != nil && *in.SortOrder != "asc" && *in.SortOrder != "desc" {
		return nil, errConstraint("sortOrder", "satisfy enum value set: [asc, desc]")
	}
	for _, f := range in.Filters {
		if f.Key == nil {
			return nil, errMissing("filters.member.key")
		}
		switch *f.Key {
		case "description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all":
		default:
			return nil, errConstraint("filters.member.key", "satisfy enum value set: [description, name, tag-key, tag-value, primary-region, owning-service, all]")
		}
		if len(f.Values) > 10 {
			return nil, errConstraint("filters.member.values", "have length less than or equal to 10")
		}
	}
	now := s.lockState()
	defer s.mu.Unlock()
	var all []*secret
	for _, sec := range s.secrets {
		// ListSecrets, IncludePlannedDeletion: secrets scheduled for
		// deletion are listed only on request.
		if sec.DeletedAt != nil && (in.IncludePlannedDeletion == nil || !*in.IncludePlannedDeletion) {
			continue
		}
		if matchesFilters(sec, in.Filters) {
			all = append(all, sec)
		}
	}
	// ListSecrets, SortOrder: by creation date, asc by default.
	sort.SliceStable(all, func(i, j int) bool { return all[i].Created.Before(all[j].Created) })
	if in.SortOrder != nil && *in.SortOrder == "desc" {
		slices.Reverse(all)
	}
	out := listSecretsOutput{SecretList: []secretDescription{}}
	if start > len(all) {
		return nil, newErr(codeInvalidNextToken, "The NextToken value is not valid.")
	}
	end := min(start+max, len(all))
	for _, sec := range all[start:end] {
		d := s.describe(sec, now)
		d.SecretVersionsToStages = sec.stagesMap()
		out.SecretList = append(out.SecretList, d)
	}
	if end < len(all) {
		out.NextToken = encodeToken(end)
	}
	return out, nil
}

// matchesFilters applies ListSecrets' Filters: every filter must match; a
// filter matches when one of its values matches (prefix match; a value
// starting with "!" negates) ("Find secrets in Secrets Manager", filters).
func matchesFilters(sec *secret, filters []filter) bool {
	for _, f := range filters {
		var fields []string
		switch *f.Key {
		case "name":
			fields = []string{sec.Name}
		case "description":
			if sec.Description != nil {
				fields = []string{*sec.Description}
			}
		case "tag-key", "tag-value":
			for _, t := range sec.Tags {
				if *f.Key == "tag-key" && t.Key != nil {
					fields = append(fields, *t.Key)
				}
				if *f.Key == "tag-value" && t.Value != nil {
					fields = append(fields, *t.Value)
				}
			}
		case "all":
			fields = append(fields, sec.Name)
			if sec.Description != nil {
				fields = append(fields, *sec.Description)
			}
			for _, t := range sec.Tags {
				if t.Key != nil {
					fields = append(fields, *t.Key)
				}
				if t.Value != nil {
					fields = append(fields, *t.Value)
				}
			}
		case "primary-region", "owning-service":
			fields = nil // no replicas, no managed secrets
		}
		matched := false
		for _, v := range f.Values {
			neg := strings.HasPrefix(v, "!")
			v = strings.TrimPrefix(v, "!")
			hit := slices.ContainsFunc(fields, func(s string) bool { return strings.HasPrefix(s, v) })
			if hit != neg {
				matched = true
				break
			}
		}
		if !matched {
			return false
		}
	}
	return true
}

// page reads MaxResults (1 to 100) and NextToken.
func page(maxResults *int64, next *string) (start, max int, err *apiError) {
	max = 100
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > 100 {
			return 0, 0, errConstraint("maxResults", "have value between 1 and 100")
		}
		max = int(*maxResults)
	}
	if next != nil {
		raw, derr := base64.RawURLEncoding.DecodeString(*next)
		if derr != nil || len(raw) != 8 {
			return 0, 0, newErr(codeInvalidNextToken, "The NextToken value is not valid.")
		}
		n := binary.BigEndian.Uint64(raw)
		if n > 1<<31 {
			return 0, 0, newErr(codeInvalidNextToken, "The NextToken value is not valid.")
		}
		start = int(n)
	}
	return start, max, nil
}

func encodeToken(offset int) *string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(offset)) // #nosec G115 -- offset is a slice index, never negative
	t := base64.RawURLEncoding.EncodeToString(b[:])
	return &t
}

// ---- GetSecretValue ----

type getSecretValueInput struct {
	SecretId     *string
	VersionId    *string
	VersionStage *string
}

type getSecretValueOutput struct {
	ARN           string
	Name          string
	VersionId     string
	SecretString  *string `json:",omitempty"`
	SecretBinary  []byte  `json:",omitempty"`
	VersionStages []string
	CreatedDate   epoch
}

func (s *Server) getSecretValue(_ context.Context, body []byte) (any, *apiError) {
	var in getSecretValueInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := firstErr(checkSecretID(in.SecretId), checkToken("versionId", in.VersionId),
		length("versionStage", in.VersionStage, 1, 256)); err != nil {
		return nil, err
	}
	now := s.lockState()
	defer s.mu.Unlock()
	sec, err := s.findLive(*in.SecretId)
	if err != nil {
		return nil, err
	}
	var v *version
	switch {
	case in.VersionId != nil:
		// GetSecretValue, VersionId: that version; with VersionStage too,
		// the stage must be on that version.
		v = sec.version(*in.VersionId)
		if v == nil || !v.hasValue() {
			if in.VersionStage != nil {
				return nil, newErr(codeResourceNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s and staging label: %s", *in.VersionId, *in.VersionStage)
			}
			return nil, newErr(codeResourceNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", *in.VersionId)
		}
		if in.VersionStage != nil && !v.has(*in.VersionStage) {
			return nil, newErr(codeInvalidRequest, "You provided a VersionStage that is not associated to the provided VersionId.")
		}
	default:
		// GetSecretValue, VersionStage: defaults to AWSCURRENT.
		stage := stageCurrent
		if in.VersionStage != nil {
			stage = *in.VersionStage
		}
		v = sec.holder(stage)
		if v == nil || !v.hasValue() {
			return nil, newErr(codeResourceNotFound, "Secrets Manager can't find the specified secret value for staging label: %s", stage)
		}
	}
	// DescribeSecret, LastAccessedDate: the day the secret was last
	// retrieved.
	today := day(now)
	if sec.LastAccessed == nil || !sec.LastAccessed.Equal(today) {
		sec.LastAccessed = &today
		s.dirty = true
	}
	if v.LastAccessed == nil || !v.LastAccessed.Equal(today) {
		v.LastAccessed = &today
		s.dirty = true
	}
	return getSecretValueOutput{
		ARN: sec.ARN, Name: sec.Name, VersionId: v.ID,
		SecretString: v.String, SecretBinary: v.Binary,
		VersionStages: slices.Clone(v.Stages), CreatedDate: epoch(v.Created),
	}, nil
}

// ---- PutSecretValue and UpdateSecret ----

type putSecretValueInput struct {
	SecretId           *string
	ClientRequestToken *string
	SecretString       *string
	SecretBinary       []byte
	VersionStages      *[]string
	RotationToken      *string
}

type putSecretValueOutput struct {
	ARN           string
	Name          string
	VersionId     string
	VersionStages []string
}

func (s *Server) putSecretValue(_ context.Context, body []byte) (any, *apiError) {
	var in putSecretValueInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := firstErr(checkSecretID(in.SecretId), checkToken("clientRequestToken", in.ClientRequestToken),
		checkValue(in.SecretString, in.SecretBinary), checkStages(in.VersionStages),
		length("rotationToken", in.RotationToken, 36, 256)); err != nil {
		return nil, err
	}
	// PutSecretValue: "You must include SecretBinary or SecretString".
	if in.SecretString == nil && in.SecretBinary == nil {
		return nil, newErr(codeInvalidRequest, "You must provide either SecretString or SecretBinary.")
	}
	now := s.lockState()
	defer s.mu.Unlock()
	sec, err := s.findLive(*in.SecretId)
	if err != nil {
		return nil, err
	}
	stages := []string{stageCurrent}
	if in.VersionStages != nil {
		stages = *in.VersionStages
	}
	v, aerr := s.putVersion(sec, in.ClientRequestToken, in.SecretString, in.SecretBinary, stages, now)
	if aerr != nil {
		return nil, aerr
	}
	return putSecretValueOutput{ARN: sec.ARN, Name: sec.Name, VersionId: v.ID, VersionStages: slices.Clone(v.Stages)}, nil
}

// putVersion stores a value under the token (PutSecretValue,
// ClientRequestToken): a new token creates a version; the token of the
// value-less version that RotateSecret registered fills it in; a token
// whose version has the same value is ignored (no change, no new
// version); one with another value fails. VersionStages: each label moves
// to this version (AWSCURRENT drags AWSPREVIOUS along).
func (s *Server) putVersion(sec *secret, token, str *string, bin []byte, stages []string, now time.Time) (*version, *apiError) {
	id := newUUID()
	if token != nil {
		id = *token
	}
	v := sec.version(id)
	if v == nil && sec.prunedRecently(id, now) {
		// AWS would still hold this version (see tokenReuseWindow) and
		// refuse another value; the emulator no longer knows the value.
		return nil, newErr(codeResourceExists, "You can't modify an existing version, you can only create a new version. (Version %s was created less than 24 hours ago; smlocal pruned it early, and its token can't be reused until then.)", id)
	}
	if v != nil && v.hasValue() {
		if v.sameValue(str, bin) {
			return v, nil
		}
		return nil, newErr(codeResourceExists, "You can't modify an existing version, you can only create a new version.")
	}
	// Quota: a version has at most 20 staging labels.
	n := len(stages)
	if v != nil {
		for _, st := range v.Stages {
			if !slices.Contains(stages, st) {
				n++
			}
		}
	}
	if n > 20 {
		return nil, newErr(codeLimitExceeded, "A version can have at most 20 staging labels.")
	}
	if v == nil {
		v = &version{ID: id, Created: now}
		sec.Versions = append(sec.Versions, v)
	}
	v.String, v.Binary = str, bin
	for _, st := range stages {
		sec.moveStage(st, v)
	}
	sec.LastChanged = now
	sec.pruneDeprecated(now)
	s.dirty = true
	return v, nil
}

type updateSecretInput struct {
	SecretId           *string
	ClientRequestToken *string
	Description        *string
	KmsKeyId           *string
	SecretString       *string
	SecretBinary       []byte
}

// updateSecret is UpdateSecret: metadata changes, and with a value a new
// version labelled AWSCURRENT (as PutSecretValue without VersionStages).
func (s *Server) updateSecret(_ context.Context, body []byte) (any, *apiError) {
	var in updateSecretInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := firstErr(checkSecretID(in.SecretId), checkToken("clientRequestToken", in.ClientRequestToken),
		length("description", in.Description, 0, 2048), length("kmsKeyId", in.KmsKeyId, 0, 2048),
		checkValue(in.SecretString, in.SecretBinary)); err != nil {
		return nil, err
	}
	now := s.lockState()
	defer s.mu.Unlock()
	sec, err := s.findLive(*in.SecretId)
	if err != nil {
		return nil, err
	}
	out := createSecretOutput{ARN: sec.ARN, Name: sec.Name}
	if in.SecretString != nil || in.SecretBinary != nil {
		v, aerr := s.putVersion(sec, in.ClientRequestToken, in.SecretString, in.SecretBinary, []string{stageCurrent}, now)
		if aerr != nil {
			return nil, aerr
		}
		out.VersionId = &v.ID
	}
	if in.Description != nil {
		sec.Description = in.Description
	}
	if in.KmsKeyId != nil {
		sec.KmsKeyID = *in.KmsKeyId
	}
	sec.LastChanged = now
	s.dirty = true
	return out, nil
}

// ---- UpdateSecretVersionStage ----

type updateSecretVersionStageInput struct {
	SecretId            *string
	VersionStage        *string
	RemoveFromVersionId *string
	MoveToVersionId     *string
}

type arnNameOutput struct {
	ARN  string
	Name string
}

func (s *Server) updateSecretVersionStage(_ context.Context, body []byte) (any, *apiError) {
	var in updateSecretVersionStageInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := firstErr(checkSecretID(in.SecretId), required("versionStage", in.VersionStage, 1, 256),
		checkToken("removeFromVersionId", in.RemoveFromVersionId), checkToken("moveToVersionId", in.MoveToVersionId)); err != nil {
		return nil, err
	}
	now := s.lockState()
	defer s.mu.Unlock()
	sec, err := s.findLive(*in.SecretId)
	if err != nil {
		return nil, err
	}
	stage := *in.VersionStage
	if in.MoveToVersionId == nil && in.RemoveFromVersionId == nil {
		return nil, newErr(codeInvalidParameter, "You must specify MoveToVersionId, RemoveFromVersionId or both.")
	}
	holder := sec.holder(stage)
	var from, to *version
	if in.RemoveFromVersionId != nil {
		// RemoveFromVersionId: "If the label is attached and you either do
		// not specify this parameter, or the version ID does not match,
		// then the operation fails."
		from = sec.version(*in.RemoveFromVersionId)
		if from == nil {
			return nil, newErr(codeResourceNotFound, "Secrets Manager can't find the specified secret version: %s", *in.RemoveFromVersionId)
		}
		if !from.has(stage) {
			return nil, newErr(codeInvalidParameter, "The staging label %s is currently not attached to version %s, so you can't remove it.", stage, from.ID)
		}
	}
	if in.MoveToVersionId != nil {
		to = sec.version(*in.MoveToVersionId)
		if to == nil {
			return nil, newErr(codeResourceNotFound, "Secrets Manager can't find the specified secret version: %s", *in.MoveToVersionId)
		}
		if holder != nil && holder != to && holder != from {
			// MoveToVersionId: "If the staging label is already attached to
			// a different version of the secret, then you must also specify
			// the RemoveFromVersionId parameter."
			return nil, newErr(codeInvalidParameter, "The parameter RemoveFromVersionId can't be empty. Staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.", stage, holder.ID)
		}
		if stage == stageCurrent && !to.hasValue() {
			// AWS documents that a failed rotation can leave AWSPENDING
			// "attached to an empty secret version" (RotateSecret), and that
			// GetSecretValue without VersionId or VersionStage returns
			// AWSCURRENT's value (GetSecretValue, VersionStage: "If you don't
			// specify either a VersionStage or VersionId, Secrets Manager
			// returns the AWSCURRENT version"), and that the AWSPENDING id
			// exists before the version does (DescribeSecret,
			// VersionIdsToStages: "Secrets Manager creates an AWSPENDING
			// version ID before creating the new secret version. To check if
			// a secret version exists, call GetSecretValue"). AWS does not
			// document the answer to moving AWSCURRENT onto such an id; the
			// emulator refuses it, so that no secret's default read can
			// become a version without a value, and a rotation function that
			// tries is caught in local tests.
			return nil, newErr(codeInvalidRequest, "Version %s has no secret value yet (the AWSPENDING placeholder RotateSecret registers); you can't attach AWSCURRENT to it. Put its value with PutSecretValue first.", to.ID)
		}
		if !to.has(stage) && len(to.Stages) >= 20 {
			return nil, newErr(codeLimitExceeded, "A version can have at most 20 staging labels.")
		}
	}
	switch {
	case to != nil:
		// MoveToVersionId: the label moves (AWSCURRENT drags AWSPREVIOUS
		// to the version it left).
		sec.moveStage(stage, to)
	case stage == stageCurrent:
		// AWSCURRENT can move but never disappear: GetSecretValue's default
		// depends on it.
		return nil, newErr(codeInvalidParameter, "You can't remove the staging label AWSCURRENT without moving it to another version (MoveToVersionId).")
	default:
		// RemoveFromVersionId alone removes the label; a version left
		// without labels is deprecated.
		from.remove(stage)
	}
	sec.LastChanged = now
	s.dirty = true
	return arnNameOutput{ARN: sec.ARN, Name: sec.Name}, nil
}

// ---- ListSecretVersionIds ----

type listSecretVersionIdsInput struct {
	SecretId          *string
	MaxResults        *int64
	NextToken         *string
	IncludeDeprecated *bool
}

type versionEntry struct {
	VersionId        string
	VersionStages    []string `json:",omitempty"`
	LastAccessedDate *epoch   `json:",omitempty"`
	CreatedDate      epoch
	KmsKeyIds        []string `json:",omitempty"`
}

type listSecretVersionIdsOutput struct {
	ARN       string
	Name      string
	Versions  []versionEntry
	NextToken *string `json:",omitempty"`
}

func (s *Server) listSecretVersionIds(_ context.Context, body []byte) (any, *apiError) {
	var in listSecretVersionIdsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkSecretID(in.SecretId); err != nil {
		return nil, err
	}
	start, max, err := page(in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	s.lockState()
	defer s.mu.Unlock()
	sec, err := s.find(*in.SecretId)
	if err != nil {
		return nil, err
	}
	// ListSecretVersionIds, IncludeDeprecated: versions without labels are
	// listed only on request.
	var vs []*version
	for _, v := range sec.Versions {
		if len(v.Stages) > 0 || (in.IncludeDeprecated != nil && *in.IncludeDeprecated) {
			vs = append(vs, v)
		}
	}
	if start > len(vs) {
		return nil, newErr(codeInvalidNextToken, "The NextToken value is not valid.")
	}
	end := min(start+max, len(vs))
	out := listSecretVersionIdsOutput{ARN: sec.ARN, Name: sec.Name, Versions: []versionEntry{}}
	for _, v := range vs[start:end] {
		e := versionEntry{VersionId: v.ID, VersionStages: slices.Clone(v.Stages), LastAccessedDate: epochPtr(v.LastAccessed), CreatedDate: epoch(v.Created)}
		if sec.KmsKeyID != "" {
			e.KmsKeyIds = []string{sec.KmsKeyID}
		}
		out.Versions = append(out.Versions, e)
	}
	if end < len(vs) {
		out.NextToken = encodeToken(end)
	}
	return out, nil
}

// ---- DeleteSecret and RestoreSecret ----

type deleteSecretInput struct {
	SecretId                   *string
	RecoveryWindowInDays       *int64
	ForceDeleteWithoutRecovery *bool
}

type deleteSecretOutput struct {
	ARN          string
	Name         string
	DeletionDate epoch
}

func (s *Server) deleteSecret(_ context.Context, body []byte) (any, *apiError) {
	var in deleteSecretInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkSecretID(in.SecretId); err != nil {
		return nil, err
	}
	force := in.ForceDeleteWithoutRecovery != nil && *in.ForceDeleteWithoutRecovery
	// DeleteSecret, ForceDeleteWithoutRecovery: "You can't use this
	// parameter in the same call with RecoveryWindowInDays."
	if force && in.RecoveryWindowInDays != nil {
		return nil, newErr(codeInvalidParameter, "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	// DeleteSecret, RecoveryWindowInDays: 7 to 30, default 30.
	days := int64(30)
	if in.RecoveryWindowInDays != nil {
		days = *in.RecoveryWindowInDays
		if days < 7 || days > 30 {
			return nil, newErr(codeInvalidParameter, "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
		}
	}
	now := s.lockState()
	defer s.mu.Unlock()
	sec, err := s.find(*in.SecretId)
	if err != nil {
		return nil, err
	}
	if force {
		// The secret is gone at once; its name can be reused.
		s.secrets = slices.DeleteFunc(s.secrets, func(x *secret) bool { return x == sec })
		s.dirty = true
		return deleteSecretOutput{ARN: sec.ARN, Name: sec.Name, DeletionDate: epoch(now)}, nil
	}
	if sec.DeletedAt != nil {
		return nil, newErr(codeInvalidRequest, "You can't perform this operation on the secret because it was already scheduled for deletion.")
	}
	when := now.Add(time.Duration(days) * 24 * time.Hour)
	sec.DeletedAt, sec.DeletionDate = &now, &when
	sec.LastChanged = now
	s.dirty = true
	return deleteSecretOutput{ARN: sec.ARN, Name: sec.Name, DeletionDate: epoch(when)}, nil
}

func (s *Server) restoreSecret(_ context.Context, body []byte) (any, *apiError) {
	var in describeSecretInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkSecretID(in.SecretId); err != nil {
		return nil, err
	}
	now := s.lockState()
	defer s.mu.Unlock()
	sec, err := s.find(*in.SecretId)
	if err != nil {
		return nil, err
	}
	// RestoreSecret: "Cancels the scheduled deletion of a secret by
	// removing the DeletedDate time stamp."
	if sec.DeletedAt != nil {
		sec.DeletedAt, sec.DeletionDate = nil, nil
		sec.LastChanged = now
		s.dirty = true
	}
	return arnNameOutput{ARN: sec.ARN, Name: sec.Name}, nil
}

// ---- Tags ----

type tagResourceInput struct {
	SecretId *string
	Tags     *[]tag
}

type untagResourceInput struct {
	SecretId *string
	TagKeys  *[]string
}

// maxTags is the quota of tags per secret.
const maxTags = 50

// mergeTags adds or overwrites tags by key (TagResource: "If you use tags
// with the same key, the new value overwrites the old one").
func mergeTags(have, add []tag) []tag {
	out := slices.Clone(have)
	for _, t := range add {
		i := slices.IndexFunc(out, func(o tag) bool { return *o.Key == *t.Key })
		if t.Value == nil {
			empty := ""
			t.Value = &empty
		}
		if i >= 0 {
			out[i] = t
		} else {
			out = append(out, t)
		}
	}
	return out
}

func (s *Server) tagResource(_ context.Context, body []byte) (any, *apiError) {
	var in tagResourceInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkSecretID(in.SecretId); err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, errMissing("tags")
	}
	if err := checkTags(*in.Tags); err != nil {
		return nil, err
	}
	for _, t := range *in.Tags {
		// Tagging: "Do not use the aws: prefix ... it is reserved for AWS use."
		if strings.HasPrefix(strings.ToLower(*t.Key), "aws:") {
			return nil, newErr(codeInvalidParameter, "Invalid tag key: the prefix aws: is reserved for AWS use.")
		}
	}
	now := s.lockState()
	defer s.mu.Unlock()
	sec, err := s.findLive(*in.SecretId)
	if err != nil {
		return nil, err
	}
	merged := mergeTags(sec.Tags, *in.Tags)
	if len(merged) > maxTags {
		return nil, newErr(codeLimitExceeded, "A secret can have at most %d tags.", maxTags)
	}
	sec.Tags = merged
	sec.LastChanged = now
	s.dirty = true
	return struct{}{}, nil
}

func (s *Server) untagResource(_ context.Context, body []byte) (any, *apiError) {
	var in untagResourceInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkSecretID(in.SecretId); err != nil {
		return nil, err
	}
	if in.TagKeys == nil {
		return nil, errMissing("tagKeys")
	}
	now := s.lockState()
	defer s.mu.Unlock()
	sec, err := s.findLive(*in.SecretId)
	if err != nil {
		return nil, err
	}
	sec.Tags = slices.DeleteFunc(sec.Tags, func(t tag) bool { return slices.Contains(*in.TagKeys, *t.Key) })
	sec.LastChanged = now
	s.dirty = true
	return struct{}{}, nil
}

// ---- Resource policies (stored, not enforced) ----

type putResourcePolicyInput struct {
	SecretId          *string
	ResourcePolicy    *string
	BlockPublicPolicy *bool
}

type getResourcePolicyOutput struct {
	ARN            string
	Name           string
	ResourcePolicy *string `json:",omitempty"`
}

func (s *Server) putResourcePolicy(_ context.Context, body []byte) (any, *apiError) {
	var in putResourcePolicyInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := firstErr(checkSecretID(in.SecretId), required("resourcePolicy", in.ResourcePolicy, 1, 20480)); err != nil {
		return nil, err
	}
	// PutResourcePolicy, Errors: MalformedPolicyDocumentException "The
	// resource policy has syntax errors". Only JSON syntax is checked.
	var doc map[string]any
	if json.Unmarshal([]byte(*in.ResourcePolicy), &doc) != nil {
		return nil, newErr(codeMalformedPolicy, "This resource policy contains a syntax error.")
	}
	now := s.lockState()
	defer s.mu.Unlock()
	sec, err := s.findLive(*in.SecretId)
	if err != nil {
		return nil, err
	}
	sec.Policy = *in.ResourcePolicy
	sec.LastChanged = now
	s.dirty = true
	return arnNameOutput{ARN: sec.ARN, Name: sec.Name}, nil
}

func (s *Server) getResourcePolicy(_ context.Context, body []byte) (any, *apiError) {
	var in describeSecretInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkSecretID(in.SecretId); err != nil {
		return nil, err
	}
	s.lockState()
	defer s.mu.Unlock()
	sec, err := s.find(*in.SecretId)
	if err != nil {
		return nil, err
	}
	out := getResourcePolicyOutput{ARN: sec.ARN, Name: sec.Name}
	if sec.Policy != "" {
		p := sec.Policy
		out.ResourcePolicy = &p
	}
	return out, nil
}

func (s *Server) deleteResourcePolicy(_ context.Context, body []byte) (any, *apiError) {
	var in describeSecretInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkSecretID(in.SecretId); err != nil {
		return nil, err
	}
	now := s.lockState()
	defer s.mu.Unlock()
	sec, err := s.findLive(*in.SecretId)
	if err != nil {
		return nil, err
	}
	if sec.Policy != "" {
		sec.Policy = ""
		sec.LastChanged = now
		s.dirty = true
	}
	return arnNameOutput{ARN: sec.ARN, Name: sec.Name}, nil
}

// firstErr returns the first non-nil error: validation order follows the
// argument order.
func firstErr(errs ...*apiError) *apiError {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
