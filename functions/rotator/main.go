// Command rotator is the Lambda function (runtime provided.al2023) that
// rotates the password of a MySQL-family database user stored in a Secrets
// Manager secret. The rotation itself lives in internal/rotation; this file
// only wires the configuration, the logger, the clients and the runtime.
package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/internal/config"
	"github.com/dbvault/dbvault/functions/rotator/internal/mysqldb"
	"github.com/dbvault/dbvault/functions/rotator/internal/rotation"
)

// version is dbvault's version (functions/rotator/version/VERSION), set
// at build time by `go run mage.go rotator` with -ldflags "-X
// main.version=X.Y.Z". A build without it (go build, the tests) says devel.
var version = "devel"

func main() {
	log := slog.New(lambdaJSONHandler(os.Stdout))
	slog.SetDefault(log)
	h, err := newHandler(context.Background(), os.Getenv, log)
	if err != nil {
		// A configuration error stops the function before any invocation:
		// Lambda reports it as an init error, which the rotation surfaces.
		log.Error("rotator cannot start", slog.String("error", err.Error()))
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

// lambdaJSONHandler writes one JSON object per line in the shape Lambda's
// log-level filtering reads for a custom runtime: the level under "level",
// and the time under "timestamp" in RFC 3339. Without a valid timestamp
// Lambda files every line as INFO, whatever its level, so errors could not
// be filtered or alarmed on by level.
// https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
func lambdaJSONHandler(w io.Writer) slog.Handler {
	return slog.NewJSONHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				a.Key = "timestamp"
				a.Value = slog.StringValue(a.Value.Time().UTC().Format(time.RFC3339Nano))
			}
			return a
		},
	})
}

// The SDK's default HTTP client dials for up to 30 s and sets no limit on
// an attempt, so one call to an endpoint that accepts and never answers
// could outlast the function's 60 s timeout. Each attempt is bounded
// instead, connecting included ("This timeout includes the time to
// connect, process any redirects, and read the complete response body",
// https://aws.github.io/aws-sdk-go-v2/docs/configuring-sdk/custom-http).
// The standard retryer is kept: 3 attempts, with a 50 ms base delay for
// errors that are not throttling (aws/retry/standard.go, NewStandard).
// Secrets Manager answers its calls in well under a second.
const (
	awsDialTimeout    = 3 * time.Second
	awsAttemptTimeout = 10 * time.Second
)

func awsHTTPClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTimeout(awsAttemptTimeout).WithDialerOptions(func(d *net.Dialer) {
		d.Timeout = awsDialTimeout
	})
}

func newHandler(ctx context.Context, getenv func(string) string, log *slog.Logger) (*rotation.Handler, error) {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return nil, err
	}
	dbOpts, err := cfg.DBOptions()
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithHTTPClient(awsHTTPClient()))
	if err != nil {
		return nil, err
	}
	sm := secretsmanager.NewFromConfig(awsCfg, func(o *secretsmanager.Options) {
		if cfg.SecretsManagerEndpoint != "" {
			o.BaseEndpoint = &cfg.SecretsManagerEndpoint
		}
	})
	log.Info("rotator configured",
		slog.String("version", version),
		slog.String("db_tls", cfg.TLSMode),
		slog.Bool("extra_ca", cfg.CAFile != ""),
		slog.Int64("password_length", cfg.Rotation.Password.Length),
		slog.String("clone_suffix", cfg.Rotation.CloneSuffix),
		slog.Int("app_users", len(cfg.Rotation.AppUsers)),
		slog.Bool("master_secret_arn_set", cfg.Rotation.MasterSecretARN != ""),
		slog.String("db_host", cfg.Rotation.DBHost),
		slog.Int("db_port", cfg.Rotation.DBPort),
		slog.Duration("connect_timeout", cfg.ConnectTimeout),
		slog.Duration("statement_timeout", cfg.StatementTimeout),
		slog.Bool("secrets_manager_endpoint_set", cfg.SecretsManagerEndpoint != ""))
	return &rotation.Handler{SM: sm, DB: mysqldb.New(dbOpts), Config: cfg.Rotation, Log: log}, nil
}
