package accesstable

// Expect is what the vault's contract says of a cell.
type Expect int

const (
	// MustDeny: the policies must deny the request.
	MustDeny Expect = iota
	// MustAllow: the policies must allow it (given what the principal's IAM
	// policies are documented to grant).
	MustAllow
	// Open: the contract leaves it to AWS (RDS on its own master secret,
	// which the vault's policies may let through and only a real account
	// shows RDS needs).
	Open
)

func (e Expect) String() string {
	return [...]string{"deny", "allow", "either"}[e]
}

// Expected is the vault's contract for one cell:
//   - every write, management and policy action on a secret is denied to
//     every principal but the administrators, except PutSecretValue and
//     UpdateSecretVersionStage for the rotator on the application secrets
//     (it writes each rotation's version and moves its labels), and what
//     RDS does with its own master secret;
//   - only the secret's own readers, the rotator and the administrators
//     may read (GetSecretValue) an application secret; only the rotator,
//     the administrators and RDS the master secret;
//   - the secrets key is used only through Secrets Manager: a direct
//     kms:Decrypt or kms:GenerateDataKey is denied to everyone, and only
//     the administrators may change its policy or create grants on it;
//   - another account may do nothing.
//
// The administrators and the rotator must be allowed what they are
// documented to do: the administrators everything on the secrets and
// control of the key, the rotator reading every secret and writing each
// application secret's versions. A reader must be allowed to read its
// secret through the secret's policy and the key policy alone.
func Expected(kind string, a Action, master bool) Expect {
	read := a.Name == "secretsmanager:GetSecretValue"
	rotatorWrite := a.Name == "secretsmanager:PutSecretValue" || a.Name == "secretsmanager:UpdateSecretVersionStage"
	switch {
	case a.OnKey && (a.Name == "kms:Decrypt" || a.Name == "kms:GenerateDataKey"):
		return MustDeny
	case a.OnKey:
		if kind == Administrator {
			return MustAllow
		}
		return MustDeny
	}
	switch kind {
	case Administrator:
		return MustAllow
	case Rotator:
		if read || rotatorWrite && !master {
			return MustAllow
		}
		return MustDeny
	case Reader:
		if read && !master {
			return MustAllow
		}
		return MustDeny
	case RDSService, RDSRole:
		if master {
			return Open
		}
		return MustDeny
	}
	return MustDeny
}
