package chaos

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/tools/sandbox"
)

// rawValue reads a version's secret string.
func (e *env) rawValue(ctx context.Context, s *subject, id string) (string, error) {
	out, err := e.check.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.arn), VersionId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("GetSecretValue version %s: %w", shortID(id), err)
	}
	return aws.ToString(out.SecretString), nil
}

// value reads and parses a version.
func (e *env) value(ctx context.Context, s *subject, id string) (sandbox.Secret, error) {
	raw, err := e.rawValue(ctx, s, id)
	if err != nil {
		return sandbox.Secret{}, err
	}
	var v sandbox.Secret
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return sandbox.Secret{}, fmt.Errorf("version %s is not the database secret's JSON", shortID(id))
	}
	return v, nil
}

// login tries a version's credentials directly against the database (not
// through the fault proxy that the secret names).
func (e *env) login(ctx context.Context, v sandbox.Secret) error {
	return sandbox.CheckLogin(ctx, e.DB.Host, e.DB.Port, v.Username, v.Password, v.DBName)
}
