package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/tools/sandbox"
)

// secretValue is the database secret's JSON.
type secretValue struct {
	Engine    string `json:"engine"`
	Host      string `json:"host"`
	Port      int    `json:"port"`
	Username  string `json:"username"`
	Password  string `json:"password"`
	DBName    string `json:"dbname,omitempty"`
	MasterARN string `json:"masterarn,omitempty"`
}

func proxyHostPort(addr string) (string, int) {
	h, p, _ := net.SplitHostPort(addr) // the proxy's own listener address
	n, _ := strconv.Atoi(p)
	return h, n
}

func (e *env) createSecret(ctx context.Context, name string, v secretValue) (string, error) {
	// #nosec G117 -- the password goes into the secret's value, which is what a database secret holds
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	out, err := e.em.Client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(string(b))})
	if err != nil {
		return "", fmt.Errorf("create secret %s: %w", name, err)
	}
	return aws.ToString(out.ARN), nil
}

// rawValue reads a version's secret string.
func (e *env) rawValue(ctx context.Context, s *subject, id string) (string, error) {
	out, err := e.check.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.arn), VersionId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("GetSecretValue version %s: %w", shortID(id), err)
	}
	return aws.ToString(out.SecretString), nil
}

// value reads and parses a version.
func (e *env) value(ctx context.Context, s *subject, id string) (secretValue, error) {
	raw, err := e.rawValue(ctx, s, id)
	if err != nil {
		return secretValue{}, err
	}
	var v secretValue
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return secretValue{}, fmt.Errorf("version %s is not the database secret's JSON", shortID(id))
	}
	return v, nil
}

// login tries a version's credentials directly against the database (not
// through the fault proxy that the secret names).
func (e *env) login(ctx context.Context, v secretValue) error {
	return sandbox.CheckLogin(ctx, e.db.Host, e.db.Port, v.Username, v.Password, v.DBName)
}
