// Package accesstable is the vault's access table: who (each reader role,
// the rotator, the administrators, RDS, any other principal of the account,
// another account) may do what (read, write, rotate, delete, re-police,
// replicate, tag a secret; use or control its key) to each secret, decided
// by ops/access over the policies that synth produces: each secret's
// resource policy, the secrets key's policy and the rotator's role policy.
// docs/credential-model.md shows the table; its test holds the table to
// the vault's contract and the doc to the table.
package accesstable

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/dbvault/dbvault/ops/access"
	"github.com/dbvault/dbvault/ops/synth"
)

// Synthesized resource types the table reads.
const (
	typeSecretPolicy = "aws:secretsmanager/secretPolicy:SecretPolicy"
	typeKey          = "aws:kms/key:Key"
	typeRolePolicy   = "aws:iam/rolePolicy:RolePolicy"
)

// Vault is what the table needs from one synthesized environment.
type Vault struct {
	Account, Region string
	// Administrators are the kms layer's administrators output.
	Administrators []string
	// RotatorRole is the rotator's role and RotatorPolicy its inline
	// policy, the rotator's only identity policy.
	RotatorRole   string
	RotatorPolicy access.Policy
	// KeyArn is the secrets key and KeyPolicy its key policy.
	KeyArn    string
	KeyPolicy access.Policy
	// AppSecrets are the application secrets, in the order of appUsers.
	AppSecrets []Secret
	// Master is RDS's managed master secret.
	Master Secret
}

// Secret is one secret of the vault and its resource policy.
type Secret struct {
	// User is the application user ("" for the master secret).
	User string
	Arn  string
	// Readers are the user's reader roles (appUsers[].readers).
	Readers []string
	// Policy is the secret's resource policy; nil when it has none.
	Policy *access.Policy
}

// fromSynth reads a Vault from the synthesized layers (ops/synth).
func fromSynth(docs []synth.Document) (Vault, error) {
	byLayer := map[string]synth.Document{}
	for _, d := range docs {
		byLayer[d.Layer] = d
	}
	kms, ok1 := byLayer["kms"]
	sec, ok2 := byLayer["secrets"]
	if !ok1 || !ok2 {
		return Vault{}, fmt.Errorf("accesstable: the kms and secrets layers are required")
	}
	v := Vault{Region: sec.Config["aws:region"]}
	var err error
	if v.Administrators, err = stringsOf(kms.Outputs["administrators"]); err != nil {
		return Vault{}, fmt.Errorf("accesstable: kms output administrators: %w", err)
	}
	v.KeyArn, _ = kms.Outputs["secretsKeyArn"].(string)
	v.RotatorRole, _ = sec.Outputs["rotatorRoleArn"].(string)
	v.Master.Arn, _ = sec.Outputs["masterSecretArn"].(string)
	if v.KeyArn == "" || v.RotatorRole == "" || v.Master.Arn == "" {
		return Vault{}, fmt.Errorf("accesstable: outputs secretsKeyArn %q, rotatorRoleArn %q, masterSecretArn %q: all are required", v.KeyArn, v.RotatorRole, v.Master.Arn)
	}
	if parts := strings.Split(v.KeyArn, ":"); len(parts) == 6 {
		v.Account = parts[4]
	}

	// The secrets key is the kms layer's key whose logical name ends in
	// secrets-key (kms.NewKeys names each key <purpose>-key).
	keys := 0
	for _, r := range kms.Resources {
		if r.Type == typeKey && strings.HasSuffix(r.Name, "secrets-key") {
			keys++
			if v.KeyPolicy, err = policyInput(r, "key policy"); err != nil {
				return Vault{}, err
			}
		}
	}
	if keys != 1 {
		return Vault{}, fmt.Errorf("accesstable: %d secrets keys in the kms layer, want 1", keys)
	}

	appArns, ok := sec.Outputs["appSecretArns"].(map[string]any)
	if !ok {
		return Vault{}, fmt.Errorf("accesstable: secrets output appSecretArns is missing")
	}
	users, err := appUsers(sec.Config[sec.Project+":appUsers"])
	if err != nil {
		return Vault{}, err
	}
	if len(users) == 0 { // the layer's default: one user, no readers
		for name := range appArns {
			users = append(users, appUser{Name: name})
		}
		sort.Slice(users, func(i, j int) bool { return users[i].Name < users[j].Name })
	}
	for _, u := range users {
		arn, _ := appArns[u.Name].(string)
		if arn == "" {
			return Vault{}, fmt.Errorf("accesstable: no secret for application user %s in appSecretArns", u.Name)
		}
		v.AppSecrets = append(v.AppSecrets, Secret{User: u.Name, Arn: arn, Readers: u.Readers})
	}

	rotatorPolicies := 0
	for _, r := range sec.Resources {
		switch {
		case r.Type == typeSecretPolicy:
			arn, _ := r.Inputs["secretArn"].(string)
			s := v.secret(arn)
			if s == nil {
				return Vault{}, fmt.Errorf("accesstable: %s is the policy of %q, which is no secret of the vault", r.Name, arn)
			}
			if s.Policy != nil {
				return Vault{}, fmt.Errorf("accesstable: %s: a second resource policy for %s", r.Name, arn)
			}
			p, err := policyInput(r, "secret policy of "+s.name())
			if err != nil {
				return Vault{}, err
			}
			s.Policy = &p
		case r.Type == typeRolePolicy && strings.HasSuffix(r.Name, "rotator-policy"):
			rotatorPolicies++
			if v.RotatorPolicy, err = policyInput(r, "rotator's role policy"); err != nil {
				return Vault{}, err
			}
		}
	}
	if rotatorPolicies != 1 {
		return Vault{}, fmt.Errorf("accesstable: %d rotator role policies in the secrets layer, want 1", rotatorPolicies)
	}
	return v, nil
}

func (v *Vault) secret(arn string) *Secret {
	if arn == v.Master.Arn {
		return &v.Master
	}
	for i := range v.AppSecrets {
		if v.AppSecrets[i].Arn == arn {
			return &v.AppSecrets[i]
		}
	}
	return nil
}

func (s Secret) name() string {
	if s.User == "" {
		return "the master secret"
	}
	return s.User
}

type appUser struct {
	Name    string   `json:"name"`
	Readers []string `json:"readers"`
}

func appUsers(config string) ([]appUser, error) {
	if config == "" {
		return nil, nil
	}
	var users []appUser
	if err := json.Unmarshal([]byte(config), &users); err != nil {
		return nil, fmt.Errorf("accesstable: config appUsers: %w", err)
	}
	return users, nil
}

func policyInput(r synth.Resource, name string) (access.Policy, error) {
	doc, ok := r.Inputs["policy"].(string)
	if !ok || doc == "" {
		return access.Policy{}, fmt.Errorf("accesstable: %s (%s) has no policy input", r.Name, r.Type)
	}
	return access.Parse(name, doc)
}

func stringsOf(v any) ([]string, error) {
	if s, ok := v.([]string); ok {
		return s, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("not a list: %v", v)
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("not a string: %v", x)
		}
		out = append(out, s)
	}
	return out, nil
}
