package smlocal_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/dbvault/dbvault/functions/rotator/smlocal"
)

// emulator is one Server behind an httptest server, with an SDK client.
type emulator struct {
	logs   *syncBuffer // the server's log lines (JSON)
	srv    *smlocal.Server
	url    string
	client *secretsmanager.Client
}

func newEmulator(t *testing.T, opts smlocal.Options) *emulator {
	t.Helper()
	logs := &syncBuffer{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	}
	srv, err := smlocal.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &emulator{logs: logs, srv: srv, url: hs.URL, client: sdkClient(hs.URL)}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// sdkClient is the real aws-sdk-go-v2 client aimed at url, with static fake
// credentials and no retries (so an error answer is seen at once).
func sdkClient(url string) *secretsmanager.Client {
	cfg := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "fake-secret", ""),
		RetryMaxAttempts: 1,
	}
	return secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		o.BaseEndpoint = aws.String(url)
	})
}

// tok returns a valid ClientRequestToken / VersionId (32 to 64 characters)
// that names version n readably.
func tok(n int) string { return fmt.Sprintf("version-%02d-%s", n, strings.Repeat("0", 24)) }

// errCode is the AWS error code of err, or "" for nil.
func errCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an AWS API error", err)
	}
	return ae.ErrorCode()
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := errCode(t, err); got != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// stages is DescribeSecret's VersionIdsToStages, labels sorted.
func stages(t *testing.T, c *secretsmanager.Client, id string) map[string][]string {
	t.Helper()
	d, err := c.DescribeSecret(t.Context(), &secretsmanager.DescribeSecretInput{SecretId: &id})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range d.VersionIdsToStages {
		sort.Strings(v)
	}
	return d.VersionIdsToStages
}

func equalStages(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w := slices.Clone(b[k])
		sort.Strings(w)
		v = slices.Clone(v)
		sort.Strings(v)
		if !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

// raw sends one request by hand and returns status and body.
func raw(t *testing.T, url, target, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
