package kit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The default component names: the names each layer's program gives its
// component. A component under any of them is the default vault, whose
// physical names are {resource-type}-{environmentSuffix}, as they have
// always been.
const (
	NetworkComponent  = "network"
	KeysComponent     = "keys"
	DatabaseComponent = "database"
	VaultComponent    = "vault"
)

// DefaultComponents are the component names of the default vault.
var DefaultComponents = []string{NetworkComponent, KeysComponent, DatabaseComponent, VaultComponent}

// MaxVaultNameLen bounds a non-default component name. With it, the longest
// environmentSuffix and the longest region, every physical name fits its AWS
// limit (the RDS identifiers, 63, are the tightest unfitted ones: the final
// snapshot identifier "<name>-final-<suffix>-YYYYMMDD-hhmmss" is at most 59);
// the IAM role names and the trail's bucket would not, and are fitted (see
// fit).
const MaxVaultNameLen = 16

// IAM role names allow 64 characters, S3 bucket names 63.
const (
	MaxRoleNameLen   = 64
	MaxBucketNameLen = 63
)

var vaultNamePattern = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// Names derives the physical and logical names of one vault's resources.
// The four components of one vault must get the same component name (or
// default ones), so that the names one layer's policies refer to (the kms
// layer's key policies name the rotator's role, log groups, trail and topic)
// are the names the later layers give those resources: every such name is a
// method here, used by both sides.
type Names struct {
	// Prefix is "" for the default vault, "<component name>-" otherwise.
	Prefix string
	// Suffix is environmentSuffix.
	Suffix string
}

// NewNames returns the names of the vault whose component is called
// component, in environment suffix. A default component name (network,
// keys, database, vault) gives the default vault's names; any other is a
// prefix of every name: lower-case letters, digits and single hyphens, a
// letter first, at most MaxVaultNameLen characters.
func NewNames(component, suffix string) (Names, error) {
	if err := ValidateSuffix(suffix); err != nil {
		return Names{}, err
	}
	if slices.Contains(DefaultComponents, component) {
		return Names{Suffix: suffix}, nil
	}
	if len(component) > MaxVaultNameLen || !vaultNamePattern.MatchString(component) {
		return Names{}, fmt.Errorf("component name %q: a vault's name is 1 to %d lower-case letters, digits and single hyphens, a letter first (it prefixes every physical name), or one of the default names %v", component, MaxVaultNameLen, DefaultComponents)
	}
	// Every physical name starts with the vault's name: refuse one that
	// gives a name AWS refuses. EC2's GroupName "Cannot start with sg-"
	// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html);
	// S3's bucket names "must not start with the prefix sthree-" or
	// "amzn-s3-demo-"
	// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
	for _, reserved := range []string{"sg", "sthree", "amzn-s3-demo"} {
		if component == reserved || strings.HasPrefix(component, reserved+"-") {
			return Names{}, fmt.Errorf("component name %q: the vault's physical names would start with %s-, which AWS reserves (security groups sg-, S3 buckets sthree- and amzn-s3-demo-); choose another name", component, reserved)
		}
	}
	return Names{Prefix: component + "-", Suffix: suffix}, nil
}

// DefaultNames are the default vault's names in environment suffix.
func DefaultNames(suffix string) Names { return Names{Suffix: suffix} }

// Logical is a child resource's logical (Pulumi) name. A child's URN holds
// its parent's type but not its parent's name, so two vaults in one stack
// need distinct child names; the default vault keeps today's, so existing
// stacks see no change.
func (n Names) Logical(child string) string { return n.Prefix + child }

// Name is the physical name of a resource: [<vault>-]{resource-type}-{suffix}.
func (n Names) Name(resourceType string) string { return n.Prefix + Name(resourceType, n.Suffix) }

// Global is the name of a resource whose names are global to the account
// (IAM roles): the region goes into it, so that one environment can exist in
// two regions of an account. It still ends in -<suffix>, and is fitted to
// IAM's 64 characters.
func (n Names) Global(resourceType, region string) string {
	return fit(n.Prefix+resourceType+"-"+region, "-"+n.Suffix, MaxRoleNameLen)
}

// fit returns head+tail when it is at most limit characters; otherwise head
// is cut and followed by "-" and 8 hex characters of the SHA-256 of
// head+tail, so that the name stays unique, deterministic and within the
// limit, and still ends in tail (-<suffix>, on which conditions and checks
// rely). The default vault's names never need it.
func fit(head, tail string, limit int) string {
	if len(head)+len(tail) <= limit {
		return head + tail
	}
	sum := sha256.Sum256([]byte(head + tail))
	keep := limit - len(tail) - 9
	cut := head[:keep]
	for len(cut) > 0 && cut[len(cut)-1] == '-' {
		cut = cut[:len(cut)-1]
	}
	return cut + "-" + hex.EncodeToString(sum[:])[:8] + tail
}

// RotatorName is the rotation function.
func (n Names) RotatorName() string { return n.Name("rotator") }

// RotatorLogGroup is the function's log group, the name Lambda gives it.
func (n Names) RotatorLogGroup() string { return "/aws/lambda/" + n.RotatorName() }

// RotatorRoleName is the rotator's execution role. The kms layer names it in
// the secrets key's policy before the secrets layer creates it, so both
// layers derive it from here. A key policy may name a principal that does
// not exist yet only in a condition (aws:PrincipalArn), never as Principal:
// KMS refuses a policy whose principals it cannot resolve
// (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html,
// "the principal ... must exist"), so the layers use the condition form.
func (n Names) RotatorRoleName(region string) string { return n.Global("rotator-role", region) }

// TrailName is the vault's own trail (when it creates one).
func (n Names) TrailName() string { return n.Name("trail") }

// TrailLogGroup is the trail's log group.
func (n Names) TrailLogGroup() string { return "/aws/cloudtrail/" + n.TrailName() }

// TrailBucketName is the trail's bucket. Bucket names are global across all
// accounts and regions: the region and the account ID keep it unique (the
// documented naming exception: the account follows the suffix). Fitted to
// S3's 63 characters.
func (n Names) TrailBucketName(region, account string) string {
	return fit(n.Prefix+"cloudtrail-"+region, "-"+n.Suffix+"-"+account, MaxBucketNameLen)
}

// FlowLogGroup is the log group of the VPC's flow log.
func (n Names) FlowLogGroup() string { return n.Name("vpc-flow-logs") }

// ClusterIdentifier is the Aurora cluster.
func (n Names) ClusterIdentifier() string { return n.Name("aurora-cluster") }

// AlertsTopicName is the SNS topic that receives the vault's alerts.
func (n Names) AlertsTopicName() string { return n.Name("vault-alerts") }

// AppSecretName is the secret of application user user:
// [<vault>-]db-credentials-<user>-<suffix>. AppSecretPattern matches exactly
// this form.
func (n Names) AppSecretName(user string) string { return n.Name("db-credentials-" + user) }

// AppSecretPattern matches the names of the vault's application secrets
// (any user), for ArnLike conditions.
func (n Names) AppSecretPattern() string { return n.Prefix + "db-credentials-*-" + n.Suffix }

// LogGroups are every log group of the environment, by exact name: the
// only groups the logs key may encrypt.
func (n Names) LogGroups() []string {
	groups := []string{n.RotatorLogGroup(), n.TrailLogGroup(), n.FlowLogGroup()}
	for _, t := range RDSLogTypes {
		groups = append(groups, RDSLogGroup(n.ClusterIdentifier(), t))
	}
	return groups
}

// RDSLogTypes are the logs the cluster exports to CloudWatch Logs.
var RDSLogTypes = []string{"audit", "error", "slowquery"}

// RDSLogGroup is the log group RDS exports the cluster's logType log to.
// RDS fixes this name (/aws/rds/cluster/<cluster>/<type>), so it is the one
// physical name that does not end in -<suffix>; it carries the suffix in the
// cluster identifier instead.
// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_LogAccess.Procedural.UploadtoCloudWatch.html
func RDSLogGroup(clusterIdentifier, logType string) string {
	return "/aws/rds/cluster/" + clusterIdentifier + "/" + logType
}

// GlobalName is the default vault's Names.Global.
func GlobalName(resourceType, region, suffix string) string {
	return DefaultNames(suffix).Global(resourceType, region)
}
