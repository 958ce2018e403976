package smlocal_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dbvault/dbvault/functions/rotator/smlocal"
)

// FuzzDecodeRequest feeds arbitrary operations and bodies to the emulator.
// Whatever arrives, it must not panic, must answer 200 with a JSON object
// or an error status with the AWS error shape, and must never answer 5xx
// (a server error would mean a decoding bug, not a bad request).
func FuzzDecodeRequest(f *testing.F) {
	seeds := []struct{ op, body string }{
		{"CreateSecret", `{"Name":"app/db","SecretString":"{\"password\":\"p\"}","ClientRequestToken":"00000000-0000-0000-0000-000000000001"}`},
		{"CreateSecret", `{"Name":"bin","SecretBinary":"AAEC","Tags":[{"Key":"k","Value":"v"}]}`},
		{"PutSecretValue", `{"SecretId":"seed","SecretString":"v2","VersionStages":["AWSPENDING"]}`},
		{"GetSecretValue", `{"SecretId":"seed","VersionStage":"AWSCURRENT"}`},
		{"UpdateSecretVersionStage", `{"SecretId":"seed","VersionStage":"AWSCURRENT","MoveToVersionId":"00000000-0000-0000-0000-000000000001"}`},
		{"ListSecretVersionIds", `{"SecretId":"seed","IncludeDeprecated":true,"MaxResults":1,"NextToken":"AAAAAAAAAAE"}`},
		{"GetRandomPassword", `{"PasswordLength":12,"ExcludeCharacters":"/@\"'\\","IncludeSpace":true}`},
		{"RotateSecret", `{"SecretId":"seed","RotationRules":{"ScheduleExpression":"rate(4 hours)","Duration":"3h"}}`},
		{"PutResourcePolicy", `{"SecretId":"seed","ResourcePolicy":"{}"}`},
		{"DescribeSecret", `{"SecretId":5}`},
		{"Nope", `{`},
		{"GetSecretValue", `null`},
		{"GetSecretValue", ``},
	}
	for _, s := range seeds {
		f.Add(s.op, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		srv, err := smlocal.New(smlocal.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		seed := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(`{"Name":"seed","SecretString":"v1"}`)))
		seed.Header.Set("X-Amz-Target", "secretsmanager.CreateSecret")
		srv.ServeHTTP(httptest.NewRecorder(), seed)

		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", "secretsmanager."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		switch {
		case rec.Code == http.StatusOK:
			var out map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Fatalf("200 with a body that is not a JSON object: %q", rec.Body.Bytes())
			}
		case rec.Code >= 400 && rec.Code < 500:
			var e map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e["__type"] == "" || e["message"] == "" {
				t.Fatalf("HTTP %d without the AWS error shape: %q", rec.Code, rec.Body.Bytes())
			}
		default:
			t.Fatalf("HTTP %d for op %q body %q: %s", rec.Code, op, body, rec.Body.Bytes())
		}
	})
}
