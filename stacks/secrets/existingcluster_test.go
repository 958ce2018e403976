package secrets_test

import (
	"testing"

	"github.com/dbvault/dbvault/stacks/kit/mock"
)

const (
	teamMasterSecret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-9f8e7d6c-5b4a-3210-fedc-ba9876543210-ZyXwVu"
	teamKeyArn       = "arn:aws:kms:us-east-1:123456789012:key/55555555-5555-5555-5555-555555555555"
)

// existingClusterRefs are the database stack's outputs for a cluster the
// team runs (the database layer's existingClusterIdentifier), its master
// secret encrypted with key (empty: the AWS managed key).
func existingClusterRefs(key string) map[string]map[string]mock.Output {
	r := refs()
	db := r["organization/vault-database/dev"]
	db["clusterIdentifier"] = mock.Output{Value: "team-aurora"}
	db["masterSecretArn"] = mock.Output{Value: teamMasterSecret}
	db["masterSecretKeyArn"] = mock.Output{Value: key}
	db["existingCluster"] = mock.Output{Value: true}
	return r
}

func masterDecrypt(t *testing.T, res mock.Result) (statement, bool) {
	t.Helper()
	rp := named(t, res, "aws:iam/rolePolicy:RolePolicy", "rotator-policy")
	s, ok := policy(t, str(rp, "policy"))["DecryptTheMasterSecret"]
	return s, ok
}

// On a team's cluster the vault leaves the master secret's policy alone and
// lets the rotator decrypt that secret with the team's key, only through
// Secrets Manager and only for that secret.
func TestExistingClusterMasterSecretIsTheTeams(t *testing.T) {
	res, err := runWith(t, baseConfig(t), existingClusterRefs(teamKeyArn))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.ByType("aws:secretsmanager/secretPolicy:SecretPolicy")); n != 1 {
		t.Errorf("%d secret policies, want only the application secret's (the team's master secret keeps its own)", n)
	}
	for _, p := range res.ByType("aws:secretsmanager/secretPolicy:SecretPolicy") {
		if str(p, "secretArn") == teamMasterSecret {
			t.Errorf("a resource policy on the team's master secret (%s)", p.Name)
		}
	}
	s, ok := masterDecrypt(t, res)
	if !ok {
		t.Fatal("no DecryptTheMasterSecret statement for a team key")
	}
	if len(s.Resource) != 1 || s.Resource[0] != teamKeyArn {
		t.Errorf("DecryptTheMasterSecret on %v, want the team's key %s", s.Resource, teamKeyArn)
	}
	if c := s.Condition["StringEquals"]; c["kms:EncryptionContext:SecretARN"] != teamMasterSecret || c["kms:ViaService"] != "secretsmanager.us-east-1.amazonaws.com" {
		t.Errorf("DecryptTheMasterSecret condition %v, want via Secrets Manager for the team's secret", s.Condition)
	}
}

// A master secret under the AWS managed key needs no KMS statement.
func TestExistingClusterWithAWSManagedKey(t *testing.T) {
	res, err := runWith(t, baseConfig(t), existingClusterRefs(""))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := masterDecrypt(t, res); ok {
		t.Errorf("DecryptTheMasterSecret %+v for a secret under aws/secretsmanager", s)
	}
}

// A database stack deployed before these outputs existed is the vault's
// own cluster: the secrets key and the master secret's policy, as before.
func TestDatabaseStackWithoutExistingClusterOutputs(t *testing.T) {
	res := deploy(t)
	s, ok := masterDecrypt(t, res)
	if !ok || len(s.Resource) != 1 || s.Resource[0] != secretsKeyArn {
		t.Errorf("DecryptTheMasterSecret %+v, want on the secrets key", s)
	}
	if n := len(res.ByType("aws:secretsmanager/secretPolicy:SecretPolicy")); n != 2 {
		t.Errorf("%d secret policies, want the application secret's and the master secret's", n)
	}
}
