package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/functions/rotator/smlocal"
	"github.com/dbvault/dbvault/functions/rotator/smlocal/smtest"
)

// awsCLI runs `aws --endpoint-url URL secretsmanager ARGS...` with fake
// credentials and no user configuration, and returns its JSON output.
type awsCLI struct {
	t   *testing.T
	bin string
	url string
	env []string
}

func newAWSCLI(t *testing.T, url string) *awsCLI {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("the AWS CLI (aws) is not installed; `bash .ci/run` installs it (Debian package awscli), and in CI this test runs")
		}
		t.Fatal("the AWS CLI (aws) is required in CI: ", err)
	}
	home := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY=fake-secret",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_PAGER=",
		"AWS_MAX_ATTEMPTS=1",
	}
	// pyenv shims need their root to find the real program.
	for _, k := range []string{"PYENV_ROOT", "PYENV_VERSION"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return &awsCLI{t: t, bin: bin, url: url, env: env}
}

// run returns the parsed JSON output, or the CLI's stderr as an error.
func (a *awsCLI) run(args ...string) (map[string]any, error) {
	a.t.Helper()
	cmd := exec.CommandContext(a.t.Context(), a.bin, append([]string{"--endpoint-url", a.url, "--output", "json", "secretsmanager"}, args...)...) // #nosec G204 -- test drives the CLI
	cmd.Env = a.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, errors.New(strings.TrimSpace(stderr.String()))
	}
	out := map[string]any{}
	if stdout.Len() > 0 {
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			a.t.Fatalf("aws %v: output is not JSON: %s", args, stdout.Bytes())
		}
	}
	return out, nil
}

func (a *awsCLI) must(args ...string) map[string]any {
	a.t.Helper()
	out, err := a.run(args...)
	if err != nil {
		a.t.Fatalf("aws secretsmanager %v: %v", args, err)
	}
	return out
}

// cliStages is VersionIdsToStages from describe-secret output.
func cliStages(out map[string]any) map[string][]string {
	m := map[string][]string{}
	raw, _ := out["VersionIdsToStages"].(map[string]any)
	for id, v := range raw {
		for _, s := range v.([]any) {
			m[id] = append(m[id], s.(string))
		}
	}
	return m
}

// TestAWSCLI drives the emulator with the AWS CLI: create, put,
// update-secret-version-stage, get by stage and by id, describe, and a
// rotation with the test function behind the Lambda runtime harness.
//
// Each CLI call costs about a second of CPU (Python start-up), so the test
// runs in parallel with the others and keeps to the calls it needs.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	inv := &swappable{}
	e := smtest.Start(t, smlocal.Options{Rotator: inv})
	cli := newAWSCLI(t, e.URL)
	fn := testFunction(t, e.URL, nil)
	inv.set(smlocal.LambdaEndpoint(fn.URL()))

	created := cli.must("create-secret", "--name", "cli/app", "--secret-string", `{"password":"one"}`, "--client-request-token", tok(1))
	if !strings.HasPrefix(created["ARN"].(string), "arn:aws:secretsmanager:us-east-1:123456789012:secret:cli/app-") || created["VersionId"] != tok(1) {
		t.Fatalf("create-secret: %v", created)
	}
	put := cli.must("put-secret-value", "--secret-id", "cli/app", "--secret-string", `{"password":"two"}`, "--client-request-token", tok(2), "--version-stages", "AWSPENDING")
	if put["VersionId"] != tok(2) {
		t.Fatalf("put-secret-value: %v", put)
	}
	cli.must("update-secret-version-stage", "--secret-id", "cli/app", "--version-stage", "AWSCURRENT", "--move-to-version-id", tok(2), "--remove-from-version-id", tok(1))

	byStage := cli.must("get-secret-value", "--secret-id", "cli/app", "--version-stage", "AWSPREVIOUS")
	if byStage["SecretString"] != `{"password":"one"}` || byStage["VersionId"] != tok(1) {
		t.Fatalf("get by stage: %v", byStage)
	}
	byID := cli.must("get-secret-value", "--secret-id", created["ARN"].(string), "--version-id", tok(2))
	if byID["SecretString"] != `{"password":"two"}` || !slices.Contains(byID["VersionStages"].([]any), any("AWSCURRENT")) {
		t.Fatalf("get by id: %v", byID)
	}
	desc := cli.must("describe-secret", "--secret-id", "cli/app")
	if got := cliStages(desc); !smtest.EqualStages(got, map[string][]string{tok(1): {"AWSPREVIOUS"}, tok(2): {"AWSCURRENT", "AWSPENDING"}}) {
		t.Fatalf("describe-secret stages: %v", got)
	}

	rot := cli.must("rotate-secret", "--secret-id", "cli/app", "--rotation-lambda-arn", fnARN, "--rotation-rules", "AutomaticallyAfterDays=7")
	newID := rot["VersionId"].(string)
	desc = cli.must("describe-secret", "--secret-id", "cli/app")
	if got := cliStages(desc); !smtest.EqualStages(got, map[string][]string{tok(2): {"AWSPREVIOUS"}, newID: {"AWSCURRENT", "AWSPENDING"}}) {
		t.Fatalf("after rotate-secret: stages %v", got)
	}
	if desc["RotationEnabled"] != true || desc["LastRotatedDate"] == nil || desc["NextRotationDate"] == nil {
		t.Fatalf("after rotate-secret: %v", desc)
	}

	// An error answer reaches the CLI as the AWS error code.
	if _, err := cli.run("get-secret-value", "--secret-id", "cli/none"); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("missing secret: %v", err)
	}
}
