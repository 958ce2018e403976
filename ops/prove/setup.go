package prove

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/dbvault/dbvault/ops/deploy"
	"github.com/dbvault/dbvault/stacks/kit"
)

// NamePrefix starts the name of every environment a proof deploys. The
// proof destroys its environment without asking, so it refuses any other
// name: a typo cannot make it destroy dev or production.
const NamePrefix = "prove-"

// DefaultName is the environment of the proof run runID (GITHUB_RUN_ID):
// prove-<run id>. The id is cut to its last 14 digits so the name stays
// within environmentSuffix's 20 characters, and an id of six digits gets an
// r in front: a suffix whose last part has six characters is refused (see
// kit.ValidateSuffix: Secrets Manager confuses it with an ARN's suffix).
func DefaultName(runID string) (string, error) {
	if !regexp.MustCompile(`^[0-9]+$`).MatchString(runID) {
		return "", fmt.Errorf("GITHUB_RUN_ID %q is not a run id: set ENV=%s<name> to name the environment", runID, NamePrefix)
	}
	id := runID
	if len(id) > 14 {
		id = id[len(id)-14:]
	}
	if len(id) == 6 {
		id = "r" + id
	}
	return NamePrefix + id, nil
}

// Setup is what a proof's commands need beyond the process's environment.
type Setup struct {
	// Env is the environment proved (ENV of every step).
	Env string
	// Region is the region (AWS_REGION, default us-east-1), for the report.
	Region string
	// Set are variables every step gets on top of the process's.
	Set map[string]string
	// Unset are variables removed from every step's environment.
	Unset []string
	// Notes go under the report's table.
	Notes []string
}

// Environ is base (os.Environ()) without s.Unset and with s.Set.
func (s Setup) Environ(base []string) []string {
	out := make([]string, 0, len(base)+len(s.Set))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, set := s.Set[k]; set || slices.Contains(s.Unset, k) {
			continue
		}
		out = append(out, kv)
	}
	for k, v := range s.Set {
		out = append(out, k+"="+v)
	}
	return out
}

// Prepare reads the proof's inputs from getenv and decides the rest:
//
//   - the environment: ENV, else DefaultName(GITHUB_RUN_ID); it must start
//     with NamePrefix and be a valid environmentSuffix;
//   - CI=true, so deployAll and destroyAll proceed without asking;
//   - the state: PULUMI_BACKEND_URL when set (it then needs the stacks'
//     passphrase, PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE,
//     or PULUMI_SECRETS_PROVIDER, unless it is Pulumi Cloud). Otherwise a
//     file backend in scratch/dbvault-prove-<env>, with a random passphrase
//     kept in a file there when none is given: a proof that fails
//     half-way, or its cleanup run after a cancelled run, finds both again.
//
// An empty PULUMI_CONFIG_PASSPHRASE (a workflow's unset secret) is removed:
// Pulumi takes a set but empty variable as the empty passphrase
// (pkg/secrets/passphrase/manager.go, os.LookupEnv, v3.274.1).
func Prepare(getenv func(string) string, scratch string) (Setup, error) {
	name := getenv("ENV")
	if name == "" {
		run := getenv("GITHUB_RUN_ID")
		if run == "" {
			return Setup{}, fmt.Errorf("ENV is not set: name the throwaway environment, e.g. ENV=%sdemo", NamePrefix)
		}
		var err error
		if name, err = DefaultName(run); err != nil {
			return Setup{}, err
		}
	}
	if !strings.HasPrefix(name, NamePrefix) {
		return Setup{}, fmt.Errorf("ENV %s does not start with %s: a proof destroys its environment without asking, so it only runs on a throwaway environment named %s<something>", name, NamePrefix, NamePrefix)
	}
	if err := kit.ValidateSuffix(name); err != nil {
		return Setup{}, fmt.Errorf("ENV: %w", err)
	}
	region := getenv("AWS_REGION")
	if region == "" {
		region = kit.DefaultRegion
	}
	// VERIFY_FRESH: the environment is minutes old, so verify reports the
	// rotation events CloudTrail cannot hold yet as pending.
	s := Setup{Env: name, Region: region, Set: map[string]string{"ENV": name, "CI": "true", "VERIFY_FRESH": "1"}}
	if getenv("PULUMI_CONFIG_PASSPHRASE") == "" {
		s.Unset = append(s.Unset, "PULUMI_CONFIG_PASSPHRASE")
	}
	haveSecrets := getenv("PULUMI_CONFIG_PASSPHRASE") != "" || getenv("PULUMI_CONFIG_PASSPHRASE_FILE") != "" ||
		getenv("PULUMI_SECRETS_PROVIDER") != ""
	backend := getenv("PULUMI_BACKEND_URL")
	switch {
	case backend != "" && (haveSecrets || strings.HasPrefix(backend, "https://")):
		s.Notes = append(s.Notes, fmt.Sprintf("State: %s.", deploy.RedactedURL(backend)))
		return s, nil
	case backend != "":
		return Setup{}, errors.New("PULUMI_BACKEND_URL is set but the stacks' passphrase is not: set the secret PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE), or PULUMI_SECRETS_PROVIDER=awskms://alias/<key>, so that the state can be read again to clean up")
	}
	dir := filepath.Join(scratch, "dbvault-prove-"+name)
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o700); err != nil {
		return Setup{}, fmt.Errorf("the proof's state directory: %w", err)
	}
	s.Set["PULUMI_BACKEND_URL"] = "file://" + filepath.Join(dir, "state")
	s.Notes = append(s.Notes, fmt.Sprintf("State: a file backend on this machine only (%s). Set PULUMI_BACKEND_URL (e.g. s3://<bucket>) to keep it: if this machine is lost before destroyAll ends, what remains can only be found by its tags (Environment=%s).", filepath.Join(dir, "state"), name))
	if haveSecrets {
		return s, nil
	}
	file := filepath.Join(dir, "passphrase")
	if err := ensurePassphrase(file); err != nil {
		return Setup{}, err
	}
	s.Set["PULUMI_CONFIG_PASSPHRASE_FILE"] = file
	return s, nil
}

// ensurePassphrase writes a random passphrase to file unless it exists.
func ensurePassphrase(file string) error {
	if _, err := os.Stat(file); err == nil {
		return nil
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("a passphrase for the proof's stacks: %w", err)
	}
	// O_EXCL: a concurrent cleanup run never replaces the passphrase the
	// state was encrypted with.
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- our own scratch directory
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("the proof's passphrase file: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(b) + "\n"); err != nil {
		_ = f.Close()
		return fmt.Errorf("the proof's passphrase file: %w", err)
	}
	return f.Close()
}
