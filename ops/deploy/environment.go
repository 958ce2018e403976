package deploy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dbvault/dbvault/ops/deploy/preflight"
	"github.com/dbvault/dbvault/stacks/kit"
)

// DefaultOrg is the organisation part of a stack's fully qualified name on
// a self-managed (file://, s3://) backend.
const DefaultOrg = "organization"

// Environment is the environment that the operations target.
type Environment struct {
	// Name is ENV: the stack name of every layer and its environmentSuffix.
	Name string
	// Region is aws:region.
	Region string
	// Tags are the tag values every layer gets.
	Tags kit.Tags
	// Org is the organisation in fully qualified stack names (DefaultOrg on
	// a self-managed backend; the Pulumi Cloud organisation otherwise).
	Org string
	// FromEnv names the variables that were set (AWS_REGION, TAG_*,
	// PULUMI_ORG): their values are the operator's explicit choice, so a
	// stack whose config disagrees stops the command. The others are
	// defaults, which only seed a new stack: a stack's own value wins.
	FromEnv map[string]bool
}

// Variables whose values seed the stacks' config (see LayerConfig).
const (
	VarRegion      = "AWS_REGION"
	VarEnvironment = "TAG_ENVIRONMENT"
	VarCostCenter  = "TAG_COST_CENTER"
	VarCompliance  = "TAG_COMPLIANCE"
	VarOrg         = "PULUMI_ORG"
)

// from is the variable behind a value when it was set, else "".
func (e Environment) from(variable string) string {
	if e.FromEnv[variable] {
		return variable
	}
	return ""
}

// FullyQualified is the fully qualified name of project's stack in env.
func (e Environment) FullyQualified(project string) string {
	org := e.Org
	if org == "" {
		org = DefaultOrg
	}
	return org + "/" + project + "/" + e.Name
}

var regionPattern = preflight.RegionPattern

// EnvironmentFromEnv reads the environment from variables: ENV (required,
// validated as environmentSuffix), AWS_REGION (else AWS_DEFAULT_REGION,
// else us-east-1),
// TAG_ENVIRONMENT (default ENV), TAG_COST_CENTER, TAG_COMPLIANCE (defaults
// kit.DefaultCostCenter, kit.DefaultCompliance) and PULUMI_ORG (default
// organization). getenv is os.Getenv in production.
func EnvironmentFromEnv(getenv func(string) string) (Environment, error) {
	e := Environment{
		Name:   getenv("ENV"),
		Region: getenv("AWS_REGION"),
		Tags: kit.Tags{
			Environment: getenv("TAG_ENVIRONMENT"),
			CostCenter:  getenv("TAG_COST_CENTER"),
			Compliance:  getenv("TAG_COMPLIANCE"),
		},
		Org:     getenv("PULUMI_ORG"),
		FromEnv: map[string]bool{},
	}
	for _, v := range []string{VarRegion, VarEnvironment, VarCostCenter, VarCompliance, VarOrg} {
		if getenv(v) != "" {
			e.FromEnv[v] = true
		}
	}
	// AWS_DEFAULT_REGION, which the AWS CLI and SDKs take when AWS_REGION
	// is unset, is a new environment's region; unlike AWS_REGION it does
	// not override, or conflict with, the region of existing stacks (it is
	// a shell's default, not a choice for this environment).
	if e.Region == "" && getenv("AWS_DEFAULT_REGION") != "" {
		e.Region = getenv("AWS_DEFAULT_REGION")
	}
	if e.Name == "" {
		return Environment{}, errors.New("ENV is not set: name the environment, e.g. ENV=dev go run mage.go deployAll (lower-case letters, digits, hyphens)")
	}
	if err := kit.ValidateSuffix(e.Name); err != nil {
		return Environment{}, fmt.Errorf("ENV: %w", err)
	}
	if e.Region == "" {
		e.Region = kit.DefaultRegion
	}
	if !regionPattern.MatchString(e.Region) {
		return Environment{}, fmt.Errorf("AWS_REGION %q is not an AWS region name (e.g. us-east-1)", e.Region)
	}
	if e.Tags.Environment == "" {
		e.Tags.Environment = e.Name
	}
	if e.Tags.CostCenter == "" {
		e.Tags.CostCenter = kit.DefaultCostCenter
	}
	if e.Tags.Compliance == "" {
		e.Tags.Compliance = kit.DefaultCompliance
	}
	if e.Org == "" {
		e.Org = DefaultOrg
	}
	return e, nil
}

// ConfirmFromEnv returns the Confirm function for a command: yes without
// asking when CI=true or CONFIRM=yes; on a terminal, a prompt that needs the
// environment's name typed back; otherwise nil, which refuses to destroy.
// in and out are the terminal (os.Stdin, os.Stderr); isTerminal says
// whether in is one.
func ConfirmFromEnv(getenv func(string) string, env string, isTerminal bool, in io.Reader, out io.Writer) func(context.Context, string) (bool, error) {
	if strings.EqualFold(getenv("CI"), "true") || getenv("CONFIRM") == "yes" {
		return func(context.Context, string) (bool, error) { return true, nil }
	}
	if !isTerminal {
		return nil
	}
	return func(_ context.Context, prompt string) (bool, error) {
		fmt.Fprintf(out, "%s\nType the environment name (%s) to confirm: ", prompt, env)
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return false, err
		}
		return strings.TrimSpace(line) == env, nil
	}
}
