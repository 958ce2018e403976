package sandbox

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// Secret is a database secret's value, the JSON that the sandbox, the
// chaos runs and the benchmarks write and read.
type Secret struct {
	Engine    string `json:"engine"`
	Host      string `json:"host"`
	Port      int    `json:"port"`
	Username  string `json:"username"`
	Password  string `json:"password"`
	DBName    string `json:"dbname,omitempty"`
	MasterARN string `json:"masterarn,omitempty"`
}

// User is an application user of the single or alternating users strategy
// and its secret, as SetUpUser makes them.
type User struct {
	SecretName, SecretARN string
	// Value is the secret's first value.
	Value Secret
}

// SetUpUser creates an application user named UniqueName(userPrefix) with
// its database (Database.NewUser) and its secret, named secretPrefix and
// the user's name, whose value says the database is at host and port: db
// itself, or a proxy in front of it. For alternating users it also creates
// the master user (the user's name and "_m", every privilege) with its
// secret, which the user's secret names. Cleanup drops the users.
func SetUpUser(ctx context.Context, db *Database, sm *secretsmanager.Client, strategy, secretPrefix, userPrefix, host string, port int) (*User, error) {
	v, err := db.NewUser(ctx, userPrefix)
	if err != nil {
		return nil, err
	}
	v.Host, v.Port = host, port
	u := &User{SecretName: secretPrefix + v.Username, Value: v}
	if strategy == Alternating {
		m := Secret{Engine: "mysql", Host: host, Port: port, Username: v.Username + "_m", Password: RandomPassword()}
		if err := db.CreateUser(ctx, m.Username, m.Password, "", true); err != nil {
			return nil, err
		}
		if u.Value.MasterARN, err = CreateSecret(ctx, sm, u.SecretName+"-master", m); err != nil {
			return nil, err
		}
	}
	if u.SecretARN, err = CreateSecret(ctx, sm, u.SecretName, u.Value); err != nil {
		return nil, err
	}
	return u, nil
}

// CreateSecret creates the secret name with v as its value and returns its
// ARN.
func CreateSecret(ctx context.Context, sm *secretsmanager.Client, name string, v Secret) (string, error) {
	// #nosec G117 -- the password goes into the secret's value, which is what a database secret holds
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(string(b))})
	if err != nil {
		return "", fmt.Errorf("create secret %s: %w", name, err)
	}
	return aws.ToString(out.ARN), nil
}

// TurnOn turns rotation on for a secret (the function FunctionARN, every 30
// days) without rotating it: the first rotation is then one like every
// other.
func TurnOn(ctx context.Context, sm *secretsmanager.Client, arn string) error {
	_, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId: aws.String(arn), RotationLambdaARN: aws.String(FunctionARN),
		RotationRules:     &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)},
		RotateImmediately: aws.Bool(false),
	})
	if err != nil {
		return fmt.Errorf("turn rotation on: %w", err)
	}
	return nil
}
