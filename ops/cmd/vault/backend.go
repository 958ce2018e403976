package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/dbvault/dbvault/ops/deploy"
)

// loginConflict refuses the repository's default backend when the Pulumi
// CLI is logged in to another one and that state holds no stack of this
// environment. A plain `pulumi` uses its login (the "current" backend of
// credentials.json in PULUMI_CREDENTIALS_PATH, else PULUMI_HOME, else
// ~/.pulumi: sdk/go/common/workspace/creds.go, getCredsFilePath, and
// util/pulumihome), while this command, without PULUMI_BACKEND_URL, keeps
// the state in the repository: an operator logged in to the team's
// backend who forgot the variable would find every stack new there and
// deploy the environment a second time from its committed stack files.
// When the repository's state already holds the environment (exists), it
// is used, with a note; a login the command cannot place (a relative
// file:// path) is not held against it. Setting PULUMI_BACKEND_URL, to
// either, is the choice.
func loginConflict(ctx context.Context, getenv func(string) string, backend string, exists func(context.Context) (bool, error), stderr io.Writer) error {
	login := pulumiLogin(getenv)
	if login == "" || sameBackend(login, backend) {
		return nil
	}
	if path, ok := strings.CutPrefix(login, "file://"); ok && !filepath.IsAbs(path) {
		return nil
	}
	found, err := exists(ctx)
	if err != nil {
		return fmt.Errorf("looking for the environment's stacks in %s: %w", backend, err)
	}
	login = deploy.RedactedURL(login)
	if found {
		fmt.Fprintf(stderr, "note: the Pulumi CLI is logged in to %s; this environment's stacks are in %s, which is used (PULUMI_BACKEND_URL is not set)\n", login, backend)
		return nil
	}
	return fmt.Errorf("the Pulumi CLI is logged in to %s, but PULUMI_BACKEND_URL is not set, and the repository's state in %s holds no stack of this environment: say which backend holds it, PULUMI_BACKEND_URL=%s or PULUMI_BACKEND_URL=%s (a new environment; a password in a URL is shown as xxxxx)", login, backend, login, backend)
}

// sameBackend: equal URLs, or file:// URLs of one directory however
// written (`pulumi login file://$PWD/../../.pulumi-state` from a layer's
// folder names the repository's state).
func sameBackend(a, b string) bool {
	pa, okA := strings.CutPrefix(a, "file://")
	pb, okB := strings.CutPrefix(b, "file://")
	if okA && okB {
		return filepath.Clean(pa) == filepath.Clean(pb)
	}
	return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}

// pulumiLogin is the backend the Pulumi CLI is logged in to, "" when it is
// logged in nowhere (or its credentials cannot be read).
func pulumiLogin(getenv func(string) string) string {
	dir := getenv("PULUMI_CREDENTIALS_PATH")
	if dir == "" {
		dir = getenv("PULUMI_HOME")
	}
	if dir == "" {
		u, err := user.Current()
		if err != nil || u.HomeDir == "" {
			return ""
		}
		dir = filepath.Join(u.HomeDir, ".pulumi")
	}
	b, err := os.ReadFile(filepath.Join(dir, "credentials.json")) // #nosec G304 -- the CLI's own credentials file.
	if err != nil {
		return ""
	}
	var creds struct {
		Current string `json:"current"`
	}
	if json.Unmarshal(b, &creds) != nil {
		return ""
	}
	// `pulumi login --local` stores file://~ (pkg/cmd/pulumi/auth/login.go).
	if rest, ok := strings.CutPrefix(creds.Current, "file://~"); ok {
		if u, err := user.Current(); err == nil && u.HomeDir != "" {
			return "file://" + u.HomeDir + rest
		}
	}
	return creds.Current
}
