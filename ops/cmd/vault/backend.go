package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
)

// loginConflict refuses the repository's default backend when the Pulumi
// CLI is logged in to another one. A plain `pulumi` uses its login (the
// "current" backend of credentials.json in PULUMI_CREDENTIALS_PATH, else
// PULUMI_HOME, else ~/.pulumi: sdk/go/common/workspace/creds.go,
// getCredsFilePath, and util/pulumihome), while this command, without
// PULUMI_BACKEND_URL, keeps the state in the repository: an operator
// logged in to the team's backend who forgot the variable would find every
// stack new there and deploy the environment a second time from its
// committed stack files. Setting PULUMI_BACKEND_URL, to either, is the
// choice.
func loginConflict(getenv func(string) string, backend string) error {
	login := pulumiLogin(getenv)
	if login == "" || sameBackend(login, backend) {
		return nil
	}
	return fmt.Errorf("the Pulumi CLI is logged in to %s, but PULUMI_BACKEND_URL is not set, so this command would use the repository's state in %s: say which holds this environment, PULUMI_BACKEND_URL=%s or PULUMI_BACKEND_URL=%s", login, backend, login, backend)
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
	return creds.Current
}
