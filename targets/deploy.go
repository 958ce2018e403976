// Deploy targets: thin wrappers over the command ./ops/cmd/vault (ops/deploy,
// ops/status). Each first runs ./ops/cmd/preflight, the checks of package
// ops/deploy/preflight (inputs, ENV, the pinned Pulumi CLI, passphrase, a
// source of AWS credentials): a small command of the standard library only,
// so a missing piece fails within seconds, before the Pulumi SDK is
// compiled. The vault command runs the same checks again, with the AWS
// credentials actually resolved.
// (Not a package comment: the package's is in workspace.go.)

package targets

import (
	"os"

	"github.com/magefile/mage/mg"
)

const vaultCmd = "./ops/cmd/vault"

// DeployAll builds the rotator, then deploys network, kms, database and secrets of ENV in order (FROM=<layer> resumes).
func DeployAll() error {
	if err := preflight("deployAll"); err != nil {
		return err
	}
	mg.Deps(Dev.Build)
	return goRun(vaultCmd, "deploy-all")
}

// DestroyAll destroys secrets, database, kms and network of ENV (asks first; CI=true or CONFIRM=yes skip the question).
func DestroyAll() error {
	if err := preflight("destroyAll"); err != nil {
		return err
	}
	return goRun(vaultCmd, "destroy-all")
}

// PreviewAll runs the policy gate over ENV's stack files, then previews every layer of ENV in deploy order.
func PreviewAll() error {
	if err := preflight("previewAll"); err != nil {
		return err
	}
	// The policy gate first, over the stack files the preview will read:
	// a violation shows before any call to AWS.
	if err := auditStackFiles(); err != nil {
		return err
	}
	mg.Deps(Dev.Rotator)
	return goRun(vaultCmd, "preview-all")
}

// Status shows the rotation state of ENV's secret (APP_USER picks an application user's, SECRET_ID any; honours SECRETS_MANAGER_ENDPOINT).
func Status() error {
	if err := preflight("status"); err != nil {
		return err
	}
	return goRun(vaultCmd, "status")
}

// Rotate rotates ENV's secret now and follows the rotation to its end (APP_USER, SECRET_ID, SECRETS_MANAGER_ENDPOINT, ROTATE_TIMEOUT).
func Rotate() error {
	if err := preflight("rotate"); err != nil {
		return err
	}
	args := []string{"rotate"}
	if t := os.Getenv("ROTATE_TIMEOUT"); t != "" {
		args = append(args, "-timeout", t)
	}
	return goRun(vaultCmd, args...)
}

// Verify checks ENV's deployed environment read-only, one PASS/FAIL line per check (VERIFY_OUTPUTS=<file> reads the outputs from a file; honours SECRETS_MANAGER_ENDPOINT).
func Verify() error {
	if err := preflight("verify"); err != nil {
		return err
	}
	return goRun(vaultCmd, "verify")
}

// Up deploys one layer of ENV (for the team that owns it).
type Up mg.Namespace

// Network deploys the network layer of ENV.
func (Up) Network() error { return layerOp("up", "network") }

// Kms deploys the kms layer of ENV.
func (Up) Kms() error { return layerOp("up", "kms") }

// Database deploys the database layer of ENV.
func (Up) Database() error { return layerOp("up", "database") }

// Secrets builds the rotator and deploys the secrets layer of ENV.
func (Up) Secrets() error { return layerOp("up", "secrets") }

// Preview previews one layer of ENV.
type Preview mg.Namespace

// Network previews the network layer of ENV.
func (Preview) Network() error { return layerOp("preview", "network") }

// Kms previews the kms layer of ENV.
func (Preview) Kms() error { return layerOp("preview", "kms") }

// Database previews the database layer of ENV.
func (Preview) Database() error { return layerOp("preview", "database") }

// Secrets builds the rotator and previews the secrets layer of ENV.
func (Preview) Secrets() error { return layerOp("preview", "secrets") }

// Destroy destroys one layer of ENV (refused while a later layer is deployed; asks first).
type Destroy mg.Namespace

// Network destroys the network layer of ENV.
func (Destroy) Network() error { return layerOp("destroy", "network") }

// Kms destroys the kms layer of ENV.
func (Destroy) Kms() error { return layerOp("destroy", "kms") }

// Database destroys the database layer of ENV.
func (Destroy) Database() error { return layerOp("destroy", "database") }

// Secrets destroys the secrets layer of ENV.
func (Destroy) Secrets() error { return layerOp("destroy", "secrets") }

// Outputs prints one layer's stack outputs for ENV.
type Outputs mg.Namespace

// Network prints the network layer's outputs.
func (Outputs) Network() error { return layerOp("outputs", "network") }

// Kms prints the kms layer's outputs.
func (Outputs) Kms() error { return layerOp("outputs", "kms") }

// Database prints the database layer's outputs.
func (Outputs) Database() error { return layerOp("outputs", "database") }

// Secrets prints the secrets layer's outputs (secretArn among them).
func (Outputs) Secrets() error { return layerOp("outputs", "secrets") }

// layerOp runs one operation on one layer.
func layerOp(op, layer string) error {
	need := "layer"
	if op == "outputs" {
		need = "outputs"
	}
	if err := preflight(need); err != nil {
		return err
	}
	if layer == "secrets" && (op == "up" || op == "preview") {
		mg.Deps(Dev.Rotator) // the secrets layer deploys functions/rotator/dist/rotator.zip
	}
	return goRun(vaultCmd, op, layer)
}

// preflight runs the checks one target needs (a name of
// ops/deploy/preflight.Needs) and fails the target when one is missing.
func preflight(need string) error {
	return goRun("./ops/cmd/preflight", need)
}
