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

// handlerFunc runs one operation on a request body; it returns the output
// object or an AWS error.
type handlerFunc func(s *Server, ctx context.Context, body []byte) (any, *apiError)

// handlers is every operation the emulator answers, by name.
var handlers = map[string]handlerFunc{
	"CreateSecret":             op((*Server).createSecret),
	"DescribeSecret":           onSecret((*Server).describeSecret),
	"GetSecretValue":           onSecret((*Server).getSecretValue),
	"PutSecretValue":           onSecret((*Server).putSecretValue),
	"UpdateSecretVersionStage": onSecret((*Server).updateSecretVersionStage),
	"ListSecretVersionIds":     onSecret((*Server).listSecretVersionIds),
	"GetRandomPassword":        op((*Server).getRandomPassword),
	"RotateSecret":             op((*Server).rotateSecret),
	"CancelRotateSecret":       onSecret((*Server).cancelRotateSecret),
	"PutResourcePolicy":        onSecret((*Server).putResourcePolicy),
	"GetResourcePolicy":        onSecret((*Server).getResourcePolicy),
	"DeleteResourcePolicy":     onSecret((*Server).deleteResourcePolicy),
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

// request is an operation's input; check is the request validation the
// service does before it reads any state.
type request[T any] interface {
	*T
	check() *apiError
}

// secretRequest is the input of an operation on the one secret its
// SecretId names; check validates SecretId first.
type secretRequest[T any] interface {
	request[T]
	secretID() string
}

// op decodes and checks the input, then runs the operation.
func op[T any, P request[T]](run func(s *Server, ctx context.Context, in P) (any, *apiError)) handlerFunc {
	return func(s *Server, ctx context.Context, body []byte) (any, *apiError) {
		in := P(new(T))
		if err := decode(body, in); err != nil {
			return nil, err
		}
		if err := in.check(); err != nil {
			return nil, err
		}
		return run(s, ctx, in)
	}
}

// onSecret is op for an operation on one secret: it runs under the
// state lock, with the secret found.
func onSecret[T any, P secretRequest[T]](run func(s *Server, in P, sec *secret, now time.Time) (any, *apiError)) handlerFunc {
	return op[T, P](func(s *Server, _ context.Context, in P) (any, *apiError) {
		sec, now, err := s.lockSecret(in.secretID())
		if err != nil {
			return nil, err
		}
		defer s.mu.Unlock()
		return run(s, in, sec, now)
	})
}

// lockSecret takes the state lock and finds the secret id names. It
// returns with the lock held, unless it returns an error.
func (s *Server) lockSecret(id string) (*secret, time.Time, *apiError) {
	s.mu.Lock()
	sec, err := s.find(id)
	if err != nil {
		s.mu.Unlock()
		return nil, time.Time{}, err
	}
	return sec, s.now(), nil
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

// changed records a change of sec at now, for LastChangedDate and the
// state file.
func (s *Server) changed(sec *secret, now time.Time) {
	sec.LastChanged = now
	s.dirty = true
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

// secretIDInput is the input of the operations that take only SecretId.
type secretIDInput struct {
	SecretId *string
}

func (in *secretIDInput) check() *apiError { return checkSecretID(in.SecretId) }
func (in *secretIDInput) secretID() string { return *in.SecretId }

type arnNameOutput struct {
	ARN  string
	Name string
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

func (in *createSecretInput) check() *apiError {
	return firstErr(checkName(in.Name), checkToken("clientRequestToken", in.ClientRequestToken),
		length("description", in.Description, 0, 2048), length("kmsKeyId", in.KmsKeyId, 0, 2048),
		checkValue(in.SecretString, in.SecretBinary), checkTags(in.Tags), checkNoReplicas(in.AddReplicaRegions))
}

type createSecretOutput struct {
	ARN       string
	Name      string
	VersionId *string `json:",omitempty"`
}

func (s *Server) createSecret(_ context.Context, in *createSecretInput) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if i := slices.IndexFunc(s.secrets, func(x *secret) bool { return x.Name == *in.Name }); i >= 0 {
		sec := s.secrets[i]
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
		Tags:        mergeTags(in.Tags),
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

// mergeTags keeps the last tag of each key ("If you use tags with the same
// key, the new value overwrites the old one", TagResource), a missing
// value as "".
func mergeTags(add []tag) []tag {
	var out []tag
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

// ---- DescribeSecret ----

type describeSecretOutput struct {
	ARN                string
	Name               string
	Description        *string             `json:",omitempty"`
	KmsKeyId           *string             `json:",omitempty"`
	RotationEnabled    *bool               `json:",omitempty"`
	RotationLambdaARN  *string             `json:",omitempty"`
	RotationRules      *rotationRules      `json:",omitempty"`
	LastRotatedDate    *epoch              `json:",omitempty"`
	LastChangedDate    *epoch              `json:",omitempty"`
	LastAccessedDate   *epoch              `json:",omitempty"`
	NextRotationDate   *epoch              `json:",omitempty"`
	Tags               []tag               `json:",omitempty"`
	VersionIdsToStages map[string][]string `json:",omitempty"`
	CreatedDate        *epoch              `json:",omitempty"`
}

func (s *Server) describeSecret(_ *secretIDInput, sec *secret, now time.Time) (any, *apiError) {
	d := describeSecretOutput{
		ARN:                sec.ARN,
		Name:               sec.Name,
		Description:        sec.Description,
		LastChangedDate:    epochPtr(&sec.LastChanged),
		LastAccessedDate:   epochPtr(sec.LastAccessed),
		CreatedDate:        epochPtr(&sec.Created),
		Tags:               sec.Tags,
		VersionIdsToStages: sec.stagesMap(),
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
	return d, nil
}

// ---- GetSecretValue ----

type getSecretValueInput struct {
	SecretId     *string
	VersionId    *string
	VersionStage *string
}

func (in *getSecretValueInput) secretID() string { return *in.SecretId }
func (in *getSecretValueInput) check() *apiError {
	return firstErr(checkSecretID(in.SecretId), checkToken("versionId", in.VersionId),
		length("versionStage", in.VersionStage, 1, 256))
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

func (s *Server) getSecretValue(in *getSecretValueInput, sec *secret, now time.Time) (any, *apiError) {
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

// ---- PutSecretValue ----

type putSecretValueInput struct {
	SecretId           *string
	ClientRequestToken *string
	SecretString       *string
	SecretBinary       []byte
	VersionStages      *[]string
	RotationToken      *string
}

func (in *putSecretValueInput) secretID() string { return *in.SecretId }
func (in *putSecretValueInput) check() *apiError {
	return firstErr(checkSecretID(in.SecretId), checkToken("clientRequestToken", in.ClientRequestToken),
		checkValue(in.SecretString, in.SecretBinary), checkStages(in.VersionStages),
		length("rotationToken", in.RotationToken, 36, 256), checkHasValue(in.SecretString, in.SecretBinary))
}

type putSecretValueOutput struct {
	ARN           string
	Name          string
	VersionId     string
	VersionStages []string
}

// putSecretValue stores the value under ClientRequestToken: a new token
// creates a version; the token of the value-less version that RotateSecret
// registered fills it in; a token whose version has the same value is
// ignored (no change, no new version); one with another value fails.
// VersionStages (default AWSCURRENT; the first version of a secret gets
// AWSCURRENT whatever they say): each label moves to this version
// (AWSCURRENT drags AWSPREVIOUS along).
func (s *Server) putSecretValue(in *putSecretValueInput, sec *secret, now time.Time) (any, *apiError) {
	stages := []string{stageCurrent}
	if in.VersionStages != nil {
		stages = slices.Clone(*in.VersionStages)
	}
	// "If this operation creates the first version for the secret, then
	// Secrets Manager automatically attaches the staging label AWSCURRENT
	// to it" (PutSecretValue, VersionStages:
	// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html).
	if len(sec.Versions) == 0 && !slices.Contains(stages, stageCurrent) {
		stages = append(stages, stageCurrent)
	}
	id := newUUID()
	if in.ClientRequestToken != nil {
		id = *in.ClientRequestToken
	}
	v := sec.version(id)
	if v == nil && sec.prunedRecently(id, now) {
		// AWS would still hold this version (see tokenReuseWindow) and
		// refuse another value; the emulator no longer knows the value.
		return nil, newErr(codeResourceExists, "You can't modify an existing version, you can only create a new version. (Version %s was created less than 24 hours ago; smlocal pruned it early, and its token can't be reused until then.)", id)
	}
	if v != nil && v.hasValue() && !v.sameValue(in.SecretString, in.SecretBinary) {
		return nil, newErr(codeResourceExists, "You can't modify an existing version, you can only create a new version.")
	}
	if v == nil || !v.hasValue() {
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
		v.String, v.Binary = in.SecretString, in.SecretBinary
		for _, st := range stages {
			sec.moveStage(st, v)
		}
		sec.pruneDeprecated(now)
		s.changed(sec, now)
	}
	return putSecretValueOutput{ARN: sec.ARN, Name: sec.Name, VersionId: v.ID, VersionStages: slices.Clone(v.Stages)}, nil
}

// ---- UpdateSecretVersionStage ----

type updateSecretVersionStageInput struct {
	SecretId            *string
	VersionStage        *string
	RemoveFromVersionId *string
	MoveToVersionId     *string
}

func (in *updateSecretVersionStageInput) secretID() string { return *in.SecretId }
func (in *updateSecretVersionStageInput) check() *apiError {
	return firstErr(checkSecretID(in.SecretId), required("versionStage", in.VersionStage, 1, 256),
		checkToken("removeFromVersionId", in.RemoveFromVersionId), checkToken("moveToVersionId", in.MoveToVersionId))
}

func (s *Server) updateSecretVersionStage(in *updateSecretVersionStageInput, sec *secret, now time.Time) (any, *apiError) {
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
	s.changed(sec, now)
	return arnNameOutput{ARN: sec.ARN, Name: sec.Name}, nil
}

// ---- ListSecretVersionIds ----

type listSecretVersionIdsInput struct {
	SecretId          *string
	MaxResults        *int64
	NextToken         *string
	IncludeDeprecated *bool

	start, max int // the page that MaxResults and NextToken ask for
}

func (in *listSecretVersionIdsInput) secretID() string { return *in.SecretId }
func (in *listSecretVersionIdsInput) check() *apiError {
	if err := checkSecretID(in.SecretId); err != nil {
		return err
	}
	var err *apiError
	in.start, in.max, err = page(in.MaxResults, in.NextToken)
	return err
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

func (s *Server) listSecretVersionIds(in *listSecretVersionIdsInput, sec *secret, _ time.Time) (any, *apiError) {
	// ListSecretVersionIds, IncludeDeprecated: versions without labels are
	// listed only on request.
	var vs []*version
	for _, v := range sec.Versions {
		if len(v.Stages) > 0 || (in.IncludeDeprecated != nil && *in.IncludeDeprecated) {
			vs = append(vs, v)
		}
	}
	if in.start > len(vs) {
		return nil, errNextToken()
	}
	from, end := in.start, min(in.start+in.max, len(vs))
	if s.shortPages {
		// Offset 0 is the empty first page; offset n holds version n-1.
		from, end = max(in.start-1, 0), min(in.start, len(vs))
	}
	out := listSecretVersionIdsOutput{ARN: sec.ARN, Name: sec.Name, Versions: []versionEntry{}}
	for _, v := range vs[from:end] {
		e := versionEntry{VersionId: v.ID, VersionStages: slices.Clone(v.Stages), LastAccessedDate: epochPtr(v.LastAccessed), CreatedDate: epoch(v.Created)}
		if sec.KmsKeyID != "" {
			e.KmsKeyIds = []string{sec.KmsKeyID}
		}
		out.Versions = append(out.Versions, e)
	}
	next := end
	if s.shortPages {
		next = in.start + 1
	}
	if end < len(vs) { // with shortPages too: end < len(vs) exactly when next <= len(vs)
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(next)) // #nosec G115 -- next is a slice index, never negative
		t := base64.RawURLEncoding.EncodeToString(b[:])
		out.NextToken = &t
	}
	return out, nil
}

// page reads MaxResults (1 to 100) and NextToken (the offset of the page,
// as listSecretVersionIds encodes it).
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
		if derr != nil || len(raw) != 8 || binary.BigEndian.Uint64(raw) > 1<<31 {
			return 0, 0, errNextToken()
		}
		start = int(binary.BigEndian.Uint64(raw)) // #nosec G115 -- at most 1<<31, checked above
	}
	return start, max, nil
}

func errNextToken() *apiError {
	return newErr(codeInvalidNextToken, "The NextToken value is not valid.")
}

// ---- Resource policies (stored and returned, not enforced) ----

type putResourcePolicyInput struct {
	SecretId          *string
	ResourcePolicy    *string
	BlockPublicPolicy *bool
}

func (in *putResourcePolicyInput) secretID() string { return *in.SecretId }
func (in *putResourcePolicyInput) check() *apiError {
	return firstErr(checkSecretID(in.SecretId), required("resourcePolicy", in.ResourcePolicy, 1, 20480),
		checkPolicySyntax(in.ResourcePolicy))
}

type getResourcePolicyOutput struct {
	ARN            string
	Name           string
	ResourcePolicy *string `json:",omitempty"`
}

func (s *Server) putResourcePolicy(in *putResourcePolicyInput, sec *secret, now time.Time) (any, *apiError) {
	sec.Policy = *in.ResourcePolicy
	s.changed(sec, now)
	return arnNameOutput{ARN: sec.ARN, Name: sec.Name}, nil
}

func (s *Server) getResourcePolicy(_ *secretIDInput, sec *secret, _ time.Time) (any, *apiError) {
	out := getResourcePolicyOutput{ARN: sec.ARN, Name: sec.Name}
	if sec.Policy != "" {
		p := sec.Policy
		out.ResourcePolicy = &p
	}
	return out, nil
}

func (s *Server) deleteResourcePolicy(_ *secretIDInput, sec *secret, now time.Time) (any, *apiError) {
	if sec.Policy != "" {
		sec.Policy = ""
		s.changed(sec, now)
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
