package smlocal_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/smlocal"
	"github.com/dbvault/dbvault/functions/rotator/smlocal/smtest"
)

// awsError checks the AWS JSON 1.1 error shape: a JSON object with exactly
// __type and message, both non-empty; it returns __type.
func awsError(t *testing.T, body []byte) string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("error body %q is not a JSON object of strings: %v", body, err)
	}
	if len(m) != 2 || m["__type"] == "" || m["message"] == "" {
		t.Fatalf("error body %q: want exactly __type and message", body)
	}
	return m["__type"]
}

// TestBadRequests: unknown operations, malformed JSON, wrong types, missing
// required members and oversized values get the AWS error shape, and change
// nothing (the state file is not rewritten, the secret is as before).
func TestBadRequests(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	e := smtest.Start(t, smlocal.Options{StatePath: state})
	c, ctx := e.Client, t.Context()
	if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v1"), ClientRequestToken: aws.String(tok(1))}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 65537)
	bigBin := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 65537))
	const jsonCT = "application/x-amz-json-1.1"
	cases := []struct {
		name, target, body string
		status             int
		code               string
	}{
		{"unknown operation", "secretsmanager.Frobnicate", `{}`, 400, "UnknownOperationException"},
		{"operation not emulated", "secretsmanager.ListSecrets", `{}`, 400, "UnknownOperationException"},
		{"other service", "kms_20141101.ListKeys", `{}`, 400, "UnknownOperationException"},
		{"no target", "", `{}`, 400, "MissingAction"},
		{"malformed JSON", "secretsmanager.PutSecretValue", `{"SecretId": "s", "SecretString": `, 400, "SerializationException"},
		{"not an object", "secretsmanager.PutSecretValue", `["s"]`, 400, "SerializationException"},
		{"not UTF-8", "secretsmanager.PutSecretValue", "{\"SecretId\": \"s\", \"SecretString\": \"\xff\"}", 400, "SerializationException"},
		{"number for a string", "secretsmanager.PutSecretValue", `{"SecretId": 5, "SecretString": "v2"}`, 400, "SerializationException"},
		{"object for a string", "secretsmanager.PutSecretValue", `{"SecretId": "s", "SecretString": {"a": 1}}`, 400, "SerializationException"},
		{"string for a list", "secretsmanager.PutSecretValue", `{"SecretId": "s", "SecretString": "v2", "VersionStages": "AWSCURRENT"}`, 400, "SerializationException"},
		{"string for a number", "secretsmanager.ListSecretVersionIds", `{"SecretId": "s", "MaxResults": "7"}`, 400, "SerializationException"},
		{"string for a boolean", "secretsmanager.ListSecretVersionIds", `{"SecretId": "s", "IncludeDeprecated": "yes"}`, 400, "SerializationException"},
		{"bad base64", "secretsmanager.PutSecretValue", `{"SecretId": "s", "SecretBinary": "***"}`, 400, "SerializationException"},
		{"missing SecretId", "secretsmanager.PutSecretValue", `{"SecretString": "v2"}`, 400, "ValidationException"},
		{"null SecretId", "secretsmanager.DescribeSecret", `{"SecretId": null}`, 400, "ValidationException"},
		{"missing Name", "secretsmanager.CreateSecret", `{"SecretString": "v"}`, 400, "ValidationException"},
		{"missing VersionStage", "secretsmanager.UpdateSecretVersionStage", `{"SecretId": "s", "MoveToVersionId": "` + tok(1) + `"}`, 400, "ValidationException"},
		{"missing ResourcePolicy", "secretsmanager.PutResourcePolicy", `{"SecretId": "s"}`, 400, "ValidationException"},
		{"empty VersionStages", "secretsmanager.PutSecretValue", `{"SecretId": "s", "SecretString": "v2", "VersionStages": []}`, 400, "ValidationException"},
		{"short token", "secretsmanager.PutSecretValue", `{"SecretId": "s", "SecretString": "v2", "ClientRequestToken": "abc"}`, 400, "ValidationException"},
		{"oversized SecretString", "secretsmanager.PutSecretValue", `{"SecretId": "s", "SecretString": "` + big + `"}`, 400, "ValidationException"},
		{"oversized SecretBinary", "secretsmanager.PutSecretValue", `{"SecretId": "s", "SecretBinary": "` + bigBin + `"}`, 400, "ValidationException"},
		{"oversized new secret", "secretsmanager.CreateSecret", `{"Name": "t", "SecretString": "` + big + `"}`, 400, "ValidationException"},
		{"oversized body", "secretsmanager.PutSecretValue", `{"SecretId": "s", "SecretString": "` + strings.Repeat("y", 2<<20) + `"}`, 413, "SerializationException"},
	}
	for _, tc := range cases {
		status, body := raw(t, e.URL, tc.target, jsonCT, []byte(tc.body))
		if status != tc.status {
			t.Errorf("%s: HTTP %d, want %d (%s)", tc.name, status, tc.status, body)
			continue
		}
		if code := awsError(t, body); code != tc.code {
			t.Errorf("%s: __type %s, want %s (%s)", tc.name, code, tc.code, body)
		}
	}
	// Only POST.
	resp, err := http.Get(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: HTTP %d", resp.StatusCode)
	}

	after, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("bad requests changed the state file")
	}
	g, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
	if err != nil || *g.SecretString != "v1" || *g.VersionId != tok(1) {
		t.Fatalf("secret after bad requests: %v %v", g, err)
	}
	// Unknown members are ignored, as the service ignores them.
	status, body := raw(t, e.URL, "secretsmanager.DescribeSecret", jsonCT, []byte(`{"SecretId": "s", "Colour": "blue"}`))
	if status != 200 {
		t.Fatalf("unknown member: HTTP %d %s", status, body)
	}
}

// TestStateFile: the state survives a restart; writes leave no temporary
// files; a damaged state file is refused with a clear error.
func TestStateFile(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	e := smtest.Start(t, smlocal.Options{StatePath: state})
	c, ctx := e.Client, t.Context()
	out, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v1"), ClientRequestToken: aws.String(tok(1))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretBinary: []byte{9, 8}, ClientRequestToken: aws.String(tok(2)), VersionStages: []string{"AWSPENDING"}}); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("state dir holds %d files, want only state.json", len(entries))
	}

	e2 := smtest.Start(t, smlocal.Options{StatePath: state})
	d, err := e2.Client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: out.ARN})
	if err != nil {
		t.Fatal(err)
	}
	if !smtest.EqualStages(d.VersionIdsToStages, map[string][]string{tok(1): {"AWSCURRENT"}, tok(2): {"AWSPENDING"}}) {
		t.Fatalf("reloaded stages %v", d.VersionIdsToStages)
	}
	g, err := e2.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSPENDING")})
	if err != nil || !bytes.Equal(g.SecretBinary, []byte{9, 8}) {
		t.Fatalf("reloaded pending value: %v %v", g, err)
	}

	if err := os.WriteFile(state, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := smlocal.New(smlocal.Options{StatePath: state}); err == nil || !strings.Contains(err.Error(), state) {
		t.Fatalf("damaged state: err = %v, want an error naming the file", err)
	}
}

// TestOperations pins the list of implemented operations (docs/testing/emulator.md lists them).
func TestOperations(t *testing.T) {
	want := "CancelRotateSecret,CreateSecret,DeleteResourcePolicy,DescribeSecret,GetRandomPassword,GetResourcePolicy,GetSecretValue,ListSecretVersionIds,PutResourcePolicy,PutSecretValue,RotateSecret,UpdateSecretVersionStage"
	if got := strings.Join(smlocal.Operations(), ","); got != want {
		t.Fatalf("Operations() = %s", got)
	}
}
