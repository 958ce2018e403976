package smlocal_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/smlocal"
	"github.com/dbvault/dbvault/functions/rotator/smlocal/smtest"
)

// TestPrunedTokenNotReused: past 100 versions the emulator prunes the
// oldest unlabelled ones at once (AWS keeps those younger than 24 hours).
// A pruned version's token is still refused with another value for 24
// hours after the version was created, as AWS would refuse it; after that
// it is free.
func TestPrunedTokenNotReused(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := smtest.Start(t, smlocal.Options{Now: clk.now})
	c, ctx := e.Client, t.Context()
	createSecret(t, c, "v1")
	for n := 2; n <= 102; n++ {
		must[*secretsmanager.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(tok(n)), SecretString: aws.String(fmt.Sprintf("v%d", n))}))
	}
	l := must[*secretsmanager.ListSecretVersionIdsOutput](t)(c.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("s"), IncludeDeprecated: aws.Bool(true)}))
	for _, v := range l.Versions {
		if *v.VersionId == tok(1) {
			t.Fatal("version 1 was not pruned")
		}
	}
	reuse := func() error {
		_, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(tok(1)), SecretString: aws.String("another value")})
		return err
	}
	wantCode(t, reuse(), "ResourceExistsException")
	clk.advance(24 * time.Hour)
	if err := reuse(); err != nil {
		t.Fatalf("the token after 24 hours: %v", err)
	}
}

// TestMemberNamesAreCaseSensitive: the service matches member names
// exactly; a member spelt in another case is unknown, and ignored.
func TestMemberNamesAreCaseSensitive(t *testing.T) {
	e := smtest.Start(t, smlocal.Options{})
	createSecret(t, e.Client, "v1")
	const ct = "application/x-amz-json-1.1"
	status, body := raw(t, e.URL, "secretsmanager.DescribeSecret", ct, []byte(`{"secretid": "s"}`))
	if status != 400 || !strings.Contains(string(body), "ValidationException") {
		t.Fatalf("secretid in lower case: HTTP %d %s", status, body)
	}
	status, body = raw(t, e.URL, "secretsmanager.CreateSecret", ct, []byte(`{"Name": "t", "Tags": [{"key": "a", "Value": "b"}]}`))
	if status != 400 || !strings.Contains(string(body), "tags.member.key") {
		t.Fatalf("a nested member in lower case: HTTP %d %s", status, body)
	}
	status, body = raw(t, e.URL, "secretsmanager.DescribeSecret", ct, []byte(`{"SecretId": "s"}`))
	if status != 200 {
		t.Fatalf("exact names: HTTP %d %s", status, body)
	}
}

// TestContentTypeRequired: AWS JSON 1.1 bodies are
// application/x-amz-json-1.1 (parameters allowed); anything else is refused.
func TestContentTypeRequired(t *testing.T) {
	e := smtest.Start(t, smlocal.Options{})
	createSecret(t, e.Client, "v1")
	for ct, want := range map[string]int{
		"text/plain": 400, "": 400, "application/json": 400, "application/x-www-form-urlencoded": 400,
		"application/x-amz-json-1.1": 200, "application/x-amz-json-1.1; charset=utf-8": 200,
	} {
		status, body := raw(t, e.URL, "secretsmanager.DescribeSecret", ct, []byte(`{"SecretId": "s"}`))
		if status != want || (want == 400 && !strings.Contains(string(body), "SerializationException")) {
			t.Errorf("Content-Type %q: HTTP %d %s", ct, status, body)
		}
	}
}
