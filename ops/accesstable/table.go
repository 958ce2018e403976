package accesstable

import (
	"fmt"
	"strings"

	"github.com/dbvault/dbvault/ops/access"
)

// Row kinds: who a row is, for the contract.
const (
	Administrator = "administrator"
	Rotator       = "rotator"
	Reader        = "reader"      // a reader of this secret
	OtherReader   = "otherReader" // a reader of another user's secret
	RDSService    = "rdsService"
	RDSRole       = "rdsRole"
	Insider       = "insider"  // any other principal of the account
	Outsider      = "outsider" // a principal of another account
)

// OutsideAccount is the account of the Outsider row.
const OutsideAccount = "210987654321"

// InsiderRoleName is the role that stands for every other principal of the
// account (an engineer whose IAM role allows everything).
const InsiderRoleName = "engineer-with-admin-access"

// allowAll is the identity policy "* on *", for principals whose IAM
// policies the vault does not control: whatever they say, the vault's own
// policies must hold.
const allowAll = `{"Version":"2012-10-17","Statement":[{"Sid":"AnythingOnAnything","Effect":"Allow","Action":"*","Resource":"*"}]}`

// administratorPolicy is what the administrators are documented to have:
// secretsmanager:* and kms:* on every resource.
const administratorPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"SecretsManagerAndKMS","Effect":"Allow","Action":["secretsmanager:*","kms:*"],"Resource":"*"}]}`

// Row is one principal of the table.
type Row struct {
	// Kind is one of the row kinds above; Label is what the docs show.
	Kind, Label string
	Principal   access.Principal
	// Identity are its identity policies (none for readers, who read
	// through the secret's policy alone, and for a service principal).
	Identity []access.Policy
}

// Action is one column of the table.
type Action struct {
	// Name is the API action ("secretsmanager:GetSecretValue").
	Name string
	// Short is the column's header.
	Short string
	// OnKey: the request goes to KMS directly, on the secrets key.
	OnKey bool
	// ThroughKMS is the KMS action Secrets Manager makes on the caller's
	// behalf for this request ("" when none): GetSecretValue decrypts the
	// secret with kms:Decrypt, PutSecretValue encrypts a new version with
	// kms:GenerateDataKey. Both must be allowed.
	// https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html
	ThroughKMS string
}

// Actions are the table's columns, in order.
var Actions = []Action{
	{Name: "secretsmanager:GetSecretValue", Short: "Get", ThroughKMS: "kms:Decrypt"},
	{Name: "secretsmanager:PutSecretValue", Short: "Put", ThroughKMS: "kms:GenerateDataKey"},
	{Name: "secretsmanager:UpdateSecret", Short: "Update"},
	{Name: "secretsmanager:UpdateSecretVersionStage", Short: "Stage"},
	{Name: "secretsmanager:RotateSecret", Short: "Rotate"},
	{Name: "secretsmanager:CancelRotateSecret", Short: "CancelRot"},
	{Name: "secretsmanager:DeleteSecret", Short: "Delete"},
	{Name: "secretsmanager:RestoreSecret", Short: "Restore"},
	{Name: "secretsmanager:PutResourcePolicy", Short: "PutPol"},
	{Name: "secretsmanager:DeleteResourcePolicy", Short: "DelPol"},
	{Name: "secretsmanager:ReplicateSecretToRegions", Short: "Replicate"},
	{Name: "secretsmanager:RemoveRegionsFromReplication", Short: "RmRegion"},
	{Name: "secretsmanager:StopReplicationToReplica", Short: "StopRepl"},
	{Name: "secretsmanager:TagResource", Short: "Tag"},
	{Name: "secretsmanager:UntagResource", Short: "Untag"},
	{Name: "kms:Decrypt", Short: "kDecrypt", OnKey: true},
	{Name: "kms:GenerateDataKey", Short: "kGenKey", OnKey: true},
	{Name: "kms:PutKeyPolicy", Short: "kPutPol", OnKey: true},
	{Name: "kms:CreateGrant", Short: "kGrant", OnKey: true},
}

// Rows are the principals of the table for secret s of v, in order. The
// reader rows are the first reader of s and the first reader of another
// application user's secret (absent when there is none).
func (v Vault) Rows(s Secret) ([]Row, error) {
	admin, err := access.Parse("administrators' IAM policy", administratorPolicy)
	if err != nil {
		return nil, err
	}
	insiderPolicy, err := access.Parse("insider's IAM policy", allowAll)
	if err != nil {
		return nil, err
	}
	outsiderPolicy, err := access.Parse("outsider's IAM policy", allowAll)
	if err != nil {
		return nil, err
	}
	slrPolicy, err := access.Parse("RDS role's IAM policy", allowAll)
	if err != nil {
		return nil, err
	}
	iam := func(arn string) access.Principal {
		return access.Principal{ARN: arn, Account: accountOf(arn)}
	}
	var rows []Row
	for _, a := range v.Administrators {
		rows = append(rows, Row{Kind: Administrator, Label: "administrators", Principal: iam(a), Identity: []access.Policy{admin}})
	}
	rows = append(rows, Row{Kind: Rotator, Label: "the rotator's role", Principal: iam(v.RotatorRole), Identity: []access.Policy{v.RotatorPolicy}})
	if len(s.Readers) > 0 {
		rows = append(rows, Row{Kind: Reader, Label: "a reader of this secret", Principal: iam(s.Readers[0])})
	}
	for _, o := range v.AppSecrets {
		if o.Arn != s.Arn && len(o.Readers) > 0 {
			label := "a reader of another user's secret"
			if s.User == "" {
				label = "a reader of an application secret"
			}
			rows = append(rows, Row{Kind: OtherReader, Label: label, Principal: iam(o.Readers[0])})
			break
		}
	}
	rows = append(rows,
		Row{Kind: RDSService, Label: "RDS as `rds.amazonaws.com`", Principal: access.Principal{Service: "rds.amazonaws.com"}},
		// Its AWS-managed policy is AWS's to change and cannot be read
		// offline: "* on *" shows what the vault's own policies leave it.
		Row{Kind: RDSRole, Label: "RDS's service-linked role (IAM: `*` on `*`)", Principal: iam(rdsServiceLinkedRole(v.Account)), Identity: []access.Policy{slrPolicy}},
		Row{Kind: Insider, Label: "any other principal of the account, as itself (IAM: `*` on `*`)", Principal: iam(fmt.Sprintf("arn:aws:iam::%s:role/%s", v.Account, InsiderRoleName)), Identity: []access.Policy{insiderPolicy}},
		Row{Kind: Outsider, Label: "a principal of another account (IAM: `*` on `*`)", Principal: iam(fmt.Sprintf("arn:aws:iam::%s:role/%s", OutsideAccount, InsiderRoleName)), Identity: []access.Policy{outsiderPolicy}},
	)
	return rows, nil
}

// rdsServiceLinkedRole is the role RDS acts through in an account.
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAM.ServiceLinkedRoles.html
func rdsServiceLinkedRole(account string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS", account)
}

func accountOf(arn string) string {
	if parts := strings.Split(arn, ":"); len(parts) == 6 {
		return parts[4]
	}
	return ""
}

// Cell is one decided cell.
type Cell struct {
	Row    Row
	Action Action
	Secret Secret
	access.Decision
}

// requestContext is the request context AWS builds for who, as far as the
// vault's policies read it: the principal's ARN, account and whether it is
// an AWS service acting as itself.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
//
// viaService: the request is one an AWS service makes with the caller's
// credentials on its behalf (Secrets Manager calling KMS), for which
// aws:ViaAWSService is true.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-viaawsservice
func requestContext(who access.Principal, viaService bool) access.Context {
	ctx := access.Context{"aws:ViaAWSService": {fmt.Sprint(viaService)}}
	if who.Service != "" {
		// #condition-keys-principalisawsservice, -principalservicename:
		// a service principal has no PrincipalArn or PrincipalAccount.
		ctx["aws:PrincipalIsAWSService"] = []string{"true"}
		ctx["aws:PrincipalServiceName"] = []string{who.Service}
		return ctx
	}
	ctx["aws:PrincipalIsAWSService"] = []string{"false"}
	ctx["aws:PrincipalArn"] = []string{who.ARN}
	ctx["aws:PrincipalAccount"] = []string{who.Account}
	// kms:CallerAccount is the caller's account for an IAM principal.
	// https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-caller-account
	ctx["kms:CallerAccount"] = []string{who.Account}
	return ctx
}

// Decide evaluates one cell.
//   - A Secrets Manager action is judged by the caller's IAM policies and
//     the secret's resource policy; when Secrets Manager then calls KMS on
//     the caller's behalf (ThroughKMS), that call is judged too, by the
//     caller's IAM policies and the key policy, with kms:ViaService
//     secretsmanager.<region>.amazonaws.com and the encryption context
//     SecretARN = the secret's ARN, which Secrets Manager always passes.
//     https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html#security-encryption-encryption-context
//   - A KMS action on the key (OnKey) is a direct call: no kms:ViaService.
//     Decrypt and GenerateDataKey carry the secret's SecretARN as their
//     encryption context, the most a caller could claim.
func (v Vault) Decide(r Row, a Action, s Secret) (access.Decision, error) {
	if a.OnKey {
		ctx := requestContext(r.Principal, false)
		if a.Name == "kms:Decrypt" || a.Name == "kms:GenerateDataKey" {
			ctx["kms:EncryptionContext:SecretARN"] = []string{s.Arn}
		}
		return v.onKey(r, a.Name, ctx)
	}
	ctx := requestContext(r.Principal, false)
	ctx["secretsmanager:SecretId"] = []string{s.Arn}
	d, err := access.Evaluate(access.Request{Principal: r.Principal, Action: a.Name, Resource: s.Arn, Context: ctx},
		access.Target{Identity: r.Identity, Resource: s.Policy, Account: v.Account})
	if err != nil || !d.Allowed || a.ThroughKMS == "" {
		return d, err
	}
	kctx := requestContext(r.Principal, true)
	kctx["kms:ViaService"] = []string{fmt.Sprintf("secretsmanager.%s.amazonaws.com", v.Region)}
	kctx["kms:EncryptionContext:SecretARN"] = []string{s.Arn}
	kd, err := v.onKey(r, a.ThroughKMS, kctx)
	if err != nil || !kd.Allowed {
		kd.Why = a.ThroughKMS + " through Secrets Manager: " + kd.Why
		return kd, err
	}
	return d, nil
}

func (v Vault) onKey(r Row, action string, ctx access.Context) (access.Decision, error) {
	kp := v.KeyPolicy
	return access.Evaluate(access.Request{Principal: r.Principal, Action: action, Resource: v.KeyArn, Context: ctx},
		access.Target{Identity: r.Identity, Resource: &kp, Account: v.Account, KeyPolicy: true})
}

// suppliedKeys are the condition keys Decide puts in a request context
// (lower case). A policy that tests another key would be judged as if the
// key were absent: the test refuses that rather than guess.
var suppliedKeys = []string{
	"aws:viaawsservice", "aws:principalisawsservice", "aws:principalservicename",
	"aws:principalarn", "aws:principalaccount", "kms:calleraccount",
	"secretsmanager:secretid", "kms:viaservice", "kms:encryptioncontext:secretarn",
}

// TestedKeys are the condition keys of the statements that could apply to
// one of Actions, in the policies the table reads: what suppliedKeys must
// cover.
func (v Vault) TestedKeys() []string {
	policies := []access.Policy{v.KeyPolicy, v.RotatorPolicy}
	for _, s := range append(append([]Secret{}, v.AppSecrets...), v.Master) {
		if s.Policy != nil {
			policies = append(policies, *s.Policy)
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range policies {
		for _, st := range p.Statements {
			if !coversAnyAction(st) {
				continue
			}
			one := access.Policy{Statements: []access.Statement{st}}
			for _, k := range one.ConditionKeys() {
				if !seen[k] {
					seen[k] = true
					out = append(out, k)
				}
			}
		}
	}
	return out
}

func coversAnyAction(st access.Statement) bool {
	for _, a := range Actions {
		for _, name := range []string{a.Name, a.ThroughKMS} {
			if name != "" && access.ActionCovered(st, name) {
				return true
			}
		}
	}
	return false
}
