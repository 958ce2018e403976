package verify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/dbvault/dbvault/ops/access"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/secrets"
)

// PolicyStatements are the Deny statements, by Sid, that the secrets layer
// puts in the resource policy of every vault secret (stacks/secrets
// access.go, denyOthers): reading, writing, and everything else but
// metadata reads, each to all but the principals named there.
var PolicyStatements = []string{"NoOtherReaders", "NoOtherWriters", "OnlyAdministratorsManage"}

// masterSecretPolicy: RDS's managed master secret kept the resource policy
// the secrets layer put on it (master-secret-policy). On a team's existing
// cluster the line passes without a call and says that the policy is the
// team's.
//
// Whether Secrets Manager keeps a resource policy on a secret that another
// service manages (OwningService rds) is unconfirmed offline: this line
// confirms it on the first real deploy. Without it only the secrets key's
// MasterSecretOnlyForRotatorAdministratorsAndRDS statement guards the master
// secret's value, and nothing keeps an insider with broad IAM rights from
// deleting it or cancelling its rotation.
func (v *Verifier) masterSecretPolicy(ctx context.Context) Result {
	const check = "master-secret-policy"
	r := v.need(check)
	arn := r.str("database", "masterSecretArn")
	existing := r.existingCluster()
	var admins []string
	rotator := ""
	if !existing {
		admins = r.list("kms", "administrators")
		rotator = r.str("secrets", "rotatorRoleArn")
	}
	if r.bad {
		return r.out
	}
	if existing {
		// The secrets layer writes no resource policy on the master secret
		// of a team's existing cluster (stacks/secrets, Database.Existing),
		// so there is no Deny of the vault's to look for. Result has PASS
		// and FAIL only: this is a PASS that says what it does not cover.
		return Result{Check: check, OK: true, Detail: fmt.Sprintf("the master secret %s is the team's (the database layer serves an existing cluster): it keeps the team's resource policy, which the vault neither writes nor checks, so the vault makes no promise about who may read it",
			arn)}
	}
	policy, err := v.resourcePolicy(ctx, arn)
	if err != nil {
		return fail(check, err.Error(), apiFix("secretsmanager:GetResourcePolicy")+v.ifMissing("the secret", "database"))
	}
	if policy == "" {
		return fail(check, fmt.Sprintf("the master secret %s has no resource policy: Secrets Manager did not keep the one the secrets layer puts on RDS's managed secret, so only the secrets key's MasterSecretOnlyForRotatorAdministratorsAndRDS statement guards it (its value, not its deletion or rotation)", arn),
			fmt.Sprintf("deploy the secrets layer (%s), which writes it (master-secret-policy); if up refused that policy, remove master-secret-policy from the secrets layer (stacks/secrets/secrets.go) and rely on the key's statement", v.up("secrets")))
	}
	missing, altered, err := missingDenies(policy)
	if err != nil {
		return fail(check, fmt.Sprintf("the master secret %s's resource policy: %v", arn, err), fmt.Sprintf("deploy the secrets layer (%s), which writes it (master-secret-policy)", v.up("secrets")))
	}
	if len(missing)+len(altered) > 0 {
		return fail(check, fmt.Sprintf("the master secret %s's resource policy %s", arn, policyFaults(missing, altered)),
			fmt.Sprintf("deploy the secrets layer (%s), which writes them (master-secret-policy); if the policy changed since, find who changed it in CloudTrail (PutResourcePolicy; the secret-changes rule alerts on it)", v.up("secrets")))
	}
	// secrets.MasterSecretPolicy: the rotator may read; the administrators
	// and RDS's service-linked role may read, write and manage.
	partition, account := arnPartitionAccount(arn)
	managers := append(slices.Clone(admins), kit.RDSServiceLinkedRole(partition, account))
	extra, err := sparedBeyond(policy, map[string][]string{"NoOtherReaders": append([]string{rotator}, managers...), "NoOtherWriters": managers, "OnlyAdministratorsManage": managers})
	if err != nil {
		return fail(check, fmt.Sprintf("the master secret %s's resource policy: %v", arn, err), fmt.Sprintf("deploy the secrets layer (%s), which writes it (master-secret-policy)", v.up("secrets")))
	}
	if len(extra) > 0 {
		return fail(check, fmt.Sprintf("the master secret %s's resource policy spares %s", arn, sparedText(extra, "beyond the rotator's role (reading), the administrators (kms administrators) and RDS's service-linked role")),
			fmt.Sprintf("deploy the secrets layer (%s), which writes it (master-secret-policy); find who changed it in CloudTrail (PutResourcePolicy; the secret-changes rule alerts on it)", v.up("secrets")))
	}
	return Result{Check: check, OK: true, Detail: fmt.Sprintf("the master secret %s has a resource policy with the Deny statements %s — confirms: Secrets Manager keeps a resource policy on RDS's managed secret",
		arn, strings.Join(PolicyStatements, ", "))}
}

// appSecretPolicies: every application secret has the vault's resource
// policy with all three Denies. Without OnlyAdministratorsManage, a
// principal that IAM allows secretsmanager:* could delete the policy, then
// read the secret, cancel its rotation or delete it.
func (v *Verifier) appSecretPolicies(ctx context.Context) Result {
	const check = "app-secret-policies"
	r := v.need(check)
	apps := r.strMap("secrets", "appSecretArns")
	admins := r.list("kms", "administrators")
	rotator := r.str("secrets", "rotatorRoleArn")
	if r.bad {
		return r.out
	}
	writers := append([]string{rotator}, admins...)
	spares := map[string][]string{"NoOtherReaders": writers, "NoOtherWriters": writers, "OnlyAdministratorsManage": admins}
	readers := map[string][]string{}
	var p problems
	fix := fmt.Sprintf("deploy the secrets layer (%s), which writes each secret's policy; if it was changed since, find who changed it in CloudTrail (PutResourcePolicy, DeleteResourcePolicy; the secret-changes rule alerts on them)", v.up("secrets"))
	for _, user := range sortedKeys(apps) {
		arn := apps[user]
		policy, err := v.resourcePolicy(ctx, arn)
		if err != nil {
			return fail(check, err.Error(), apiFix("secretsmanager:GetResourcePolicy")+v.ifMissing("the secret", "secrets"))
		}
		if policy == "" {
			p.add(fmt.Sprintf("%s (%s) has no resource policy", user, arn), fix)
			continue
		}
		missing, altered, err := missingDenies(policy)
		if err != nil {
			p.add(fmt.Sprintf("%s (%s): %v", user, arn, err), fix)
			continue
		}
		if len(missing)+len(altered) > 0 {
			p.add(fmt.Sprintf("%s (%s)'s resource policy %s", user, arn, policyFaults(missing, altered)), fix)
			continue
		}
		extra, err := sparedBeyond(policy, spares)
		if err != nil {
			p.add(fmt.Sprintf("%s (%s): %v", user, arn, err), fix)
			continue
		}
		// Whom else NoOtherReaders spares are the secret's readers, which
		// no output lists: they are shown, not judged.
		readers[user] = extra["NoOtherReaders"]
		delete(extra, "NoOtherReaders")
		if len(extra) > 0 {
			p.add(fmt.Sprintf("%s (%s)'s resource policy spares %s", user, arn, sparedText(extra, "neither an administrator (kms administrators) nor the rotator's role")), fix)
		}
	}
	var shown []string
	for _, user := range sortedKeys(readers) {
		shown = append(shown, fmt.Sprintf("%s: %s", user, orNone(strings.Join(readers[user], ", "))))
	}
	return p.result(check, fmt.Sprintf("the resource policies of %s each have the Deny statements %s, sparing the administrators and the rotator's role, and in NoOtherReaders the readers (%s: check them against appUsers)",
		strings.Join(sortedKeys(apps), ", "), strings.Join(PolicyStatements, ", "), strings.Join(shown, "; ")))
}

// sparedBeyond is, for each of a policy's PolicyStatements, the principals
// its ArnNotEquals aws:PrincipalArn spares that known[sid] does not list.
// A principal added there is exempt from the Deny: whoever may write the
// policy could spare a crony that way, and the Deny statements would
// still all be present.
func sparedBeyond(policy string, known map[string][]string) (map[string][]string, error) {
	got, err := access.Parse("resource policy", policy)
	if err != nil {
		return nil, err
	}
	extra := map[string][]string{}
	for _, st := range got.Statements {
		if st.Effect != "Deny" || !slices.Contains(PolicyStatements, st.Sid) {
			continue
		}
		for _, a := range conditionValues(st, "ArnNotEquals", "aws:PrincipalArn") {
			if !slices.Contains(known[st.Sid], a) && !slices.Contains(extra[st.Sid], a) {
				extra[st.Sid] = append(extra[st.Sid], a)
			}
		}
	}
	return extra, nil
}

// sparedText says which statement spares which unknown principals.
func sparedText(extra map[string][]string, who string) string {
	var out []string
	for _, sid := range sortedKeys(extra) {
		out = append(out, fmt.Sprintf("%s in %s", strings.Join(extra[sid], ", "), sid))
	}
	return strings.Join(out, "; ") + ", " + who
}

// policyFaults says what a secret's resource policy lacks or has altered.
func policyFaults(missing, altered []string) string {
	var out []string
	if len(missing) > 0 {
		out = append(out, "lacks the Deny statement(s) "+strings.Join(missing, ", "))
	}
	if len(altered) > 0 {
		out = append(out, "has Deny statement(s) that differ from the secrets layer's: "+strings.Join(altered, "; "))
	}
	return strings.Join(out, "; ")
}

// resourcePolicy is the secret's resource policy ("" when it has none).
//
// GetResourcePolicy
// (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetResourcePolicy.html):
// ResourcePolicy is "A JSON-formatted string that contains the permissions
// policy attached to the secret"; a secret without one answers no
// ResourcePolicy.
func (v *Verifier) resourcePolicy(ctx context.Context, arn string) (string, error) {
	rp, err := v.Clients.SecretsManager.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("GetResourcePolicy %s: %w", arn, err)
	}
	return aws.ToString(rp.ResourcePolicy), nil
}

// missingDenies are the PolicyStatements that policy lacks as Deny
// statements, and what differs in those it has from the secrets layer's
// (deniedStatements). The policy is read with IAM's grammar (ops/access:
// a string or a list, Principal "*" or {"AWS": "*"}).
func missingDenies(policy string) (missing, altered []string, err error) {
	got, err := access.Parse("resource policy", policy)
	if err != nil {
		return nil, nil, err
	}
	want, err := deniedStatements()
	if err != nil {
		return nil, nil, err
	}
	denies := map[string]access.Statement{}
	for _, st := range got.Statements {
		if st.Effect == "Deny" {
			denies[st.Sid] = st
		}
	}
	for _, sid := range PolicyStatements {
		st, ok := denies[sid]
		if !ok {
			missing = append(missing, sid)
			continue
		}
		if d := statementDiff(st, want[sid]); d != "" {
			altered = append(altered, sid+" "+d)
		}
	}
	return missing, altered, nil
}

// deniedStatements are the secrets layer's Deny statements by Sid
// (stacks/secrets, denyOthers; the principals they spare differ by secret).
func deniedStatements() (map[string]access.Statement, error) {
	const a = "arn:aws:iam::000000000000:role/"
	doc, err := secrets.MasterSecretPolicy(a+"rotator", []string{a + "admin"}, a+"rds").JSON()
	if err != nil {
		return nil, err
	}
	p, err := access.Parse("the secrets layer's policy", doc)
	if err != nil {
		return nil, err
	}
	out := map[string]access.Statement{}
	for _, st := range p.Statements {
		if st.Effect == "Deny" {
			out[st.Sid] = st
		}
	}
	return out, nil
}

// statementDiff says how a deployed Deny differs from the layer's want in
// what it denies: to everyone (Principal "*"), the same actions (Action or
// NotAction, as a set, without regard to case, as IAM reads them), on
// every resource, sparing only named principals (ArnNotEquals
// aws:PrincipalArn, no wildcard) and AWS services (BoolIfExists
// aws:PrincipalIsAWSService false). "" when it does not.
func statementDiff(got, want access.Statement) string {
	var out []string
	if p := got.Principal; p == nil || !(p.Any || slices.Equal(p.AWS, []string{"*"})) || len(p.Service) > 0 {
		out = append(out, "does not deny everyone (Principal \"*\")")
	}
	if !sameActions(got.Action, want.Action) || !sameActions(got.NotAction, want.NotAction) {
		out = append(out, fmt.Sprintf("has Action %v NotAction %v, not Action %v NotAction %v", got.Action, got.NotAction, want.Action, want.NotAction))
	}
	if !slices.Equal(got.Resource, []string{"*"}) {
		out = append(out, fmt.Sprintf("has Resource %v, not *", got.Resource))
	}
	spared := conditionValues(got, "ArnNotEquals", "aws:PrincipalArn")
	switch {
	case len(spared) == 0:
		out = append(out, "spares no principal by ArnNotEquals aws:PrincipalArn")
	case slices.ContainsFunc(spared, func(s string) bool { return strings.ContainsAny(s, "*?") }):
		out = append(out, fmt.Sprintf("spares %v, a wildcard", spared))
	}
	if v := conditionValues(got, "BoolIfExists", "aws:PrincipalIsAWSService"); !slices.Equal(v, []string{"false"}) {
		out = append(out, fmt.Sprintf("has BoolIfExists aws:PrincipalIsAWSService %v, not false", v))
	}
	// A key more under an operator narrows the Deny (an added
	// aws:ViaAWSService would spare every direct call), as does an operator
	// more: each holds its one key.
	for op, keys := range got.Condition {
		if (op != "ArnNotEquals" && op != "BoolIfExists") || len(keys) != 1 {
			out = append(out, fmt.Sprintf("has condition %s %v, beyond ArnNotEquals aws:PrincipalArn and BoolIfExists aws:PrincipalIsAWSService", op, slices.Sorted(maps.Keys(keys))))
		}
	}
	return strings.Join(out, ", ")
}

// conditionValues are the values of key under operator in st's Condition,
// the key read without regard to case, as IAM reads condition keys.
func conditionValues(st access.Statement, operator, key string) []string {
	for k, v := range st.Condition[operator] {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// sameActions: a and b name the same actions, as sets, without regard to
// case.
func sameActions(a, b []string) bool {
	norm := func(l []string) []string {
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = strings.ToLower(s)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(norm(a), norm(b))
}

// DummyCiphertext is what secrets-key-direct-use asks KMS to decrypt: not
// a KMS ciphertext, so nothing can be decrypted whatever KMS answers.
var DummyCiphertext = []byte("dbvault verify: not a ciphertext")

// secretsKeyDirectUse: the secrets key refuses kms:Decrypt called directly,
// not through Secrets Manager (its OnlyThroughSecretsManager Deny).
//
// The call is a dry run of a dummy ciphertext naming the key. Decrypt
// (https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html):
// "When you use the KeyId parameter to specify a KMS key, AWS KMS only uses
// the KMS key you specify"; DryRun "Checks if your request will succeed"
// and, with DryRunModifiers IGNORE_CIPHERTEXT, "KMS performs only
// authorization validation without ciphertext validation" (the same API
// reference, and the developer guide's "Testing your permissions",
// https://docs.aws.amazon.com/kms/latest/developerguide/testing-permissions.html).
// So the answers mean:
//   - AccessDeniedException: refused. A key policy's Deny shows in the
//     message as "with an explicit deny in a resource-based policy" (KMS's
//     wording as reported in aws/aws-nitro-enclaves-sdk-c#157); a message
//     "because no ... policy allows" means your principal lacks an Allow,
//     which does not show the Deny;
//   - DryRunOperationException: the call would have been authorized, so the
//     Deny did not apply;
//   - InvalidCiphertextException or IncorrectKeyException: KMS authorized
//     the call and looked at the ciphertext (the modifier was not honoured),
//     so the Deny did not apply either.
//
// That KMS authorizes before it reads the ciphertext is documented only
// for the dry run with IGNORE_CIPHERTEXT; without it the order is
// unconfirmed, which is why the dry run is used. Nothing is decrypted:
// the blob is no ciphertext and a dry run returns no plaintext.
func (v *Verifier) secretsKeyDirectUse(ctx context.Context) Result {
	const check = "secrets-key-direct-use"
	r := v.need(check)
	key := r.str("kms", "secretsKeyArn")
	if r.bad {
		return r.out
	}
	_, err := v.Clients.KMS.Decrypt(ctx, &kms.DecryptInput{
		KeyId:           aws.String(key),
		CiphertextBlob:  DummyCiphertext,
		DryRun:          aws.Bool(true),
		DryRunModifiers: []kmstypes.DryRunModifierType{kmstypes.DryRunModifierTypeIgnoreCiphertext},
	})
	denyFix := fmt.Sprintf("deploy the kms layer (%s), which writes the key policy's OnlyThroughSecretsManager Deny; if it is in the policy, check that nothing else (a grant, another account's policy) lets your principal use the key", v.up("kms"))
	meaning := "(AccessDeniedException naming an explicit deny in a resource-based policy = the Deny applied; DryRunOperationException, InvalidCiphertextException or IncorrectKeyException = the call was authorized)"
	var apiErr smithy.APIError
	switch {
	case err == nil:
		return fail(check, fmt.Sprintf("a direct kms:Decrypt dry run on the secrets key %s succeeded %s", key, meaning), denyFix)
	case !errors.As(err, &apiErr):
		return fail(check, fmt.Sprintf("kms:Decrypt dry run on %s: %v", key, err), apiFix("kms:Decrypt (a dry run on the secrets key; it decrypts nothing)"))
	}
	msg := apiErr.ErrorMessage()
	switch apiErr.ErrorCode() {
	case "AccessDeniedException":
		// An explicit deny is named "with an explicit deny in a <type>
		// policy", and when several types deny, only one of them is named
		// (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html):
		// only a resource-based policy's deny, the key policy on this call,
		// shows the Deny. A deny of another type (the principal's own
		// policy, a boundary, a session policy, an SCP) hides whether it
		// applied.
		lower := strings.ToLower(msg)
		switch {
		case strings.Contains(lower, "explicit deny in a resource-based policy"):
			return Result{Check: check, OK: true, Detail: fmt.Sprintf("a direct kms:Decrypt (dry run, dummy ciphertext, KeyId %s) answered AccessDeniedException with an explicit deny in a resource-based policy — confirms: the key refuses use outside Secrets Manager (OnlyThroughSecretsManager)", key)}
		case strings.Contains(lower, "explicit deny"):
			return fail(check, fmt.Sprintf("inconclusive: a direct kms:Decrypt dry run on %s was refused by an explicit deny in another policy than the key's (%s), so the answer does not show the key policy's Deny %s", key, orNone(msg), meaning),
				"run verify as a principal that no identity policy, permissions boundary, session policy or SCP denies kms:Decrypt on the secrets key, and that IAM allows it (docs/deploying.md lists verify's permissions)")
		case strings.Contains(lower, "explicitly denies"):
			// KMS's older wording lumps together a missing key, no Allow
			// and a resource-based Deny: "... no resource-based policies
			// allow access, or a resource-based policy explicitly denies
			// access" (unconfirmed for a dry run).
			return fail(check, fmt.Sprintf("inconclusive: a direct kms:Decrypt dry run on %s answered AccessDeniedException without saying which policy refused it (%s) %s", key, orNone(msg), meaning),
				"check that the key exists in this region and that IAM allows your principal kms:Decrypt on it, then run verify again")
		}
		return fail(check, fmt.Sprintf("a direct kms:Decrypt dry run on %s answered AccessDeniedException without an explicit deny (%s): your principal lacks an Allow for kms:Decrypt on the key, so the answer does not show the Deny %s", key, orNone(msg), meaning),
			"allow your principal kms:Decrypt on the secrets key in IAM (docs/deploying.md lists verify's permissions; the key policy delegates to IAM) and run verify again")
	case "DryRunOperationException", "InvalidCiphertextException", "IncorrectKeyException":
		return fail(check, fmt.Sprintf("a direct kms:Decrypt dry run on %s answered %s: KMS authorized it, so the OnlyThroughSecretsManager Deny did not apply %s", key, apiErr.ErrorCode(), meaning), denyFix)
	default:
		return fail(check, fmt.Sprintf("kms:Decrypt dry run on %s: %s: %s %s", key, apiErr.ErrorCode(), orNone(msg), meaning),
			apiFix("kms:Decrypt (a dry run on the secrets key; it decrypts nothing)")+"; if the key does not exist or is disabled, deploy the kms layer ("+v.up("kms")+")")
	}
}
