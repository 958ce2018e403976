package kit

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// The environment classes (config environmentClass).
const (
	// Ephemeral environments are destroyable without manual steps: no
	// deletion protection, no final snapshot, secrets deleted at once.
	Ephemeral = "ephemeral"
	// Production environments keep what holds data: deletion protection,
	// a final snapshot, `protect` on stateful resources, a 30-day recovery
	// window for secrets, a year of logs and an immutable audit trail.
	Production = "production"
)

// Classes are the accepted values of environmentClass.
var Classes = []string{Ephemeral, Production}

// ProductionMinLogRetentionDays is the shortest log and audit retention of a
// production environment: a year, the usual floor of SOC 2 and PCI DSS
// (requirement 10.5.1) for audit trails.
const ProductionMinLogRetentionDays = 365

// ProductionRecoveryWindowDays is how long a deleted secret of a production
// environment can be restored: Secrets Manager's default and maximum.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html
const ProductionRecoveryWindowDays = 30

// LogRetentionDays are the retention periods CloudWatch Logs accepts.
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
var LogRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// loadClass reads environmentClass (default ephemeral).
func loadClass(cfg *config.Config) (string, error) {
	c := cfg.Get("environmentClass")
	if c == "" {
		return Ephemeral, nil
	}
	if !slices.Contains(Classes, c) {
		return "", fmt.Errorf("environmentClass is %q; it must be %s (destroyable without manual steps, the default) or %s (kept: deletion protection, snapshots, protect)", c, Ephemeral, Production)
	}
	return c, nil
}

// Production reports whether the environment is of the production class.
func (c Common) Production() bool { return c.Class == Production }

// Retention is a log retention in days for argument name: def when days is
// zero, raised to the production floor in production; a value CloudWatch
// Logs does not accept, or shorter than that floor in production, is an
// error naming the argument. Components apply it to their zero values.
func Retention(name string, days, def int, production bool) (int, error) {
	if production && def < ProductionMinLogRetentionDays {
		def = ProductionMinLogRetentionDays
	}
	if days == 0 {
		days = def
	}
	switch {
	case !slices.Contains(LogRetentionDays, days):
		return 0, fmt.Errorf("%s is %d; CloudWatch Logs accepts only %v", name, days, LogRetentionDays)
	case production && days < ProductionMinLogRetentionDays:
		return 0, fmt.Errorf("%s is %d; a production environment keeps logs at least %d days", name, days, ProductionMinLogRetentionDays)
	}
	return days, nil
}

// Protected is the protect option of a resource that holds data: on in
// production; otherwise none at all, so that a caller's Protect(true) on
// the component still reaches it. A child's explicit Protect(false) would
// override its parent's: the SDK inherits protect only when the child sets
// none (pulumi/pulumi sdk/go/pulumi/context.go, "if parent != nil &&
// protect == nil"), as the engine does (pkg/resource/deploy/source_eval.go,
// inheritFromParent), and "the default is to inherit this value from the
// parent resource" (https://www.pulumi.com/docs/iac/concepts/resources/options/protect/).
func Protected(production bool) pulumi.ResourceOption {
	if production {
		return pulumi.Protect(true)
	}
	return pulumi.Composite()
}
