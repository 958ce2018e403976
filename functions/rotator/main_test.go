package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/internal/rotation"
)

// Lambda's log-level filtering reads "level" and an RFC 3339 "timestamp";
// without the timestamp it files every line as INFO.
func TestLogLinesCarryWhatLambdaFiltersOn(t *testing.T) {
	var buf bytes.Buffer
	slog.New(lambdaJSONHandler(&buf)).Error("rotation step failed", slog.String("step", "setSecret"))
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON object: %v: %s", err, buf.String())
	}
	if line["level"] != "ERROR" {
		t.Errorf("level = %v", line["level"])
	}
	ts, _ := line["timestamp"].(string)
	if _, err := time.Parse(time.RFC3339, ts); err != nil {
		t.Errorf("timestamp %q is not RFC 3339: %v", ts, err)
	}
	if _, ok := line["time"]; ok {
		t.Error("the line still has slog's time key")
	}
}

func TestNewHandlerRefusesBadConfiguration(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))
	for _, env := range []map[string]string{
		{"DB_TLS": "prefer"},
		{"PASSWORD_LENGTH": "six"},
		{"DB_CONNECT_TIMEOUT": "forever"},
		{"DB_TLS_CA_FILE": "/nonexistent/ca.pem"},
		{"EXCLUDE_NUMBERS": "maybe"},
	} {
		if _, err := newHandler(context.Background(), func(k string) string { return env[k] }, log); err == nil {
			t.Errorf("accepted %v", env)
		}
	}
	h, err := newHandler(context.Background(), func(k string) string { return map[string]string{"AWS_REGION": "us-east-1"}[k] }, log)
	if err != nil || h.Config.Password.Length != 32 || h.Config.CloneSuffix != "_clone" {
		t.Fatalf("defaults: %+v, %v", h, err)
	}
}

// The "rotator configured" line names the build's version (main.version,
// which go run mage.go rotator sets with -ldflags -X).
func TestConfiguredLineCarriesTheVersion(t *testing.T) {
	old := version
	version = "9.8.7"
	t.Cleanup(func() { version = old })
	var buf bytes.Buffer
	if _, err := newHandler(context.Background(), func(k string) string { return map[string]string{"AWS_REGION": "us-east-1"}[k] }, slog.New(lambdaJSONHandler(&buf))); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON object: %v: %s", err, buf.String())
	}
	if line["msg"] != "rotator configured" || line["version"] != "9.8.7" {
		t.Fatalf("line: %s", buf.String())
	}
}

// The function's timeout (stacks/secrets, RotatorTimeoutSeconds).
const functionTimeout = 60 * time.Second

// Every Secrets Manager call, all its attempts and backoffs included, ends
// well before the function's timeout less the step's margin, when the
// step's error is still logged: the SDK's defaults (a 30 s dial, attempts
// without a limit) would not.
func TestSecretsManagerCallsEndWithinTheTimeout(t *testing.T) {
	h, err := newHandler(context.Background(), func(k string) string { return map[string]string{"AWS_REGION": "us-east-1"}[k] }, slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	o := h.SM.(*secretsmanager.Client).Options()
	hc, ok := o.HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		t.Fatalf("HTTP client %T, want the bounded BuildableClient", o.HTTPClient)
	}
	if hc.GetTimeout() <= 0 || hc.GetDialer().Timeout <= 0 || hc.GetDialer().Timeout > hc.GetTimeout() {
		t.Fatalf("attempt timeout %s, dial timeout %s: both must be set, the dial's within the attempt's", hc.GetTimeout(), hc.GetDialer().Timeout)
	}
	attempts := o.Retryer.MaxAttempts()
	var backoff time.Duration
	for i := 1; i < attempts; i++ {
		longest := time.Duration(0)
		for range 100 { // the delay is jittered: take the longest of many
			d, err := o.Retryer.RetryDelay(i, errors.New("timeout"))
			if err != nil {
				t.Fatal(err)
			}
			longest = max(longest, d)
		}
		backoff += longest
	}
	worst := time.Duration(attempts)*hc.GetTimeout() + backoff
	if limit := functionTimeout - rotation.MaxDeadlineMargin; worst >= limit {
		t.Errorf("one call may take %s (%d attempts of %s, %s of backoff), not within %s", worst, attempts, hc.GetTimeout(), backoff, limit)
	}
}
