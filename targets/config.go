package targets

import (
	"errors"
	"os"
)

// configCmd writes the stack config files and the configuration tables
// from the layers' declarations (stacks/<layer>/Pulumi.yaml).
const configCmd = "./ops/cmd/config"

// Configure writes stacks/<layer>/Pulumi.<ENV>.yaml for every layer before the first deploy: each key commented out with its default and rule (an existing file is kept untouched).
func Configure() error {
	if err := envRequired(); err != nil {
		return err
	}
	return goRun(configCmd, "configure")
}

var errMissingEnv = errors.New("ENV is required: the environment whose stack files to write or read, e.g. ENV=dev go run mage.go configure")

// envRequired refuses a missing ENV before anything is built.
func envRequired() error {
	if os.Getenv("ENV") == "" {
		return errMissingEnv
	}
	return nil
}

// auditStackFiles is the policy gate over ENV's configuration: synth
// reads stacks/<layer>/Pulumi.<ENV>.yaml where it exists, so the gate
// judges the values the stacks will deploy. A preview may run it first to
// show a violation before any AWS call.
func auditStackFiles() error {
	if err := envRequired(); err != nil {
		return err
	}
	return Dev{}.Audit()
}
