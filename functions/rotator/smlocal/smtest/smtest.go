// Package smtest starts the Secrets Manager emulator (package smlocal) for
// a test, with an aws-sdk-go-v2 client for it, and reads staging labels the
// way the tests compare them.
package smtest

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/smlocal"
	"github.com/dbvault/dbvault/functions/rotator/syncbuf"
)

// Emulator is an smlocal.Server behind an httptest server, with a client.
type Emulator struct {
	Server *smlocal.Server
	// URL is the endpoint, e.g. for SECRETS_MANAGER_ENDPOINT.
	URL string
	// Client calls URL with fake credentials and makes one attempt per
	// call, so that an error answer is seen at once.
	Client *secretsmanager.Client
	// Logs holds the server's log lines (JSON) when opts.Logger was nil.
	Logs *syncbuf.Buffer
}

// Start serves smlocal.New(opts) until the test ends.
func Start(tb testing.TB, opts smlocal.Options) *Emulator {
	tb.Helper()
	e := &Emulator{Logs: &syncbuf.Buffer{}}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewJSONHandler(e.Logs, nil))
	}
	srv, err := smlocal.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	tb.Cleanup(hs.Close)
	e.Server, e.URL = srv, hs.URL
	e.Client = secretsmanager.New(secretsmanager.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(hs.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret-key", ""),
		RetryMaxAttempts: 1,
	})
	return e
}

// Step does ev's step as a rotation function without a database would:
// createSecret puts value as the AWSPENDING version, finishSecret moves
// AWSCURRENT to it, setSecret and testSecret have nothing to do.
func (e *Emulator) Step(ctx context.Context, ev events.SecretsManagerSecretRotationEvent, value string) error {
	switch ev.Step {
	case "createSecret":
		_, err := e.Client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: &ev.SecretID,
			ClientRequestToken: &ev.ClientRequestToken, SecretString: &value, VersionStages: []string{"AWSPENDING"}})
		return err
	case "finishSecret":
		d, err := e.Client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: &ev.SecretID})
		if err != nil {
			return err
		}
		for id, stages := range d.VersionIdsToStages {
			if slices.Contains(stages, "AWSCURRENT") {
				_, err = e.Client.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: &ev.SecretID,
					VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: &ev.ClientRequestToken, RemoveFromVersionId: aws.String(id)})
				return err
			}
		}
	}
	return nil
}

// Stages is DescribeSecret's VersionIdsToStages, labels sorted.
func Stages(tb testing.TB, c *secretsmanager.Client, id string) map[string][]string {
	tb.Helper()
	d, err := c.DescribeSecret(tb.Context(), &secretsmanager.DescribeSecretInput{SecretId: &id})
	if err != nil {
		tb.Fatal(err)
	}
	for _, v := range d.VersionIdsToStages {
		slices.Sort(v)
	}
	return d.VersionIdsToStages
}

// EqualStages reports whether two VersionIdsToStages maps hold the same
// labels on the same versions, in any order.
func EqualStages(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !slices.Equal(slices.Sorted(slices.Values(v)), slices.Sorted(slices.Values(w))) {
			return false
		}
	}
	return true
}
