# The rule catalog: every rule's id, severity, what it checks and why, in one
# place. README's "Policy gate" table and the audit's tests read this map, so
# a rule cannot exist without a line here (ops/audit tests enforce it).
#
# class, where set ("ephemeral" or "production"), limits a rule to layers of
# that environmentClass (finding() in lib.rego applies it); rules without
# one apply to every layer.
#
# Severity: high fails `go run mage.go dev:audit` (and blocks `pulumi preview`
# through stack_deny); medium is reported (stack_warn) but does not fail.
package dbvault

import rego.v1

rules := {
	"TAG-001": {"severity": "high", "title": "taggable resources carry non-empty Environment, CostCenter and Compliance tags", "reason": "cost allocation, ownership and the compliance scope are read from tags; an untagged resource escapes all three"},
	"TAG-002": {"severity": "high", "title": "no resource sets a compliance tag of its own: they come from the provider's defaultTags", "reason": "the AWS provider lets a resource's own tag win over a default tag, so one resource could carry another cost centre or compliance scope than its environment"},
	"NAME-001": {"severity": "high", "title": "physical names carry the environmentSuffix ({resource-type}-{environmentSuffix})", "reason": "environments share one account; a name without the suffix collides with, or is mistaken for, another environment's resource"},
	"IAM-001": {"severity": "high", "title": "no identity or trust policy Allows the action \"*\" or \"<service>:*\"", "reason": "a wildcard action grants every present and future action of the service, the opposite of least privilege"},
	"IAM-002": {"severity": "high", "title": "no identity policy has Resource \"*\" except for actions AWS offers no resource-level permission for (no_resource_actions)", "reason": "\"*\" extends a grant to every resource of the account, including other environments'"},
	"IAM-003": {"severity": "high", "title": "no Allow with NotAction or NotResource", "reason": "an Allow with NotAction/NotResource grants everything except a list, which grows silently as AWS adds actions and resources"},
	"IAM-004": {"severity": "high", "title": "assume-role policies trust a named service principal only", "reason": "a role that trusts \"*\" or a whole account can be assumed by principals nobody reviewed"},
	"IAM-005": {"severity": "high", "title": "assume-role policies for services that send it carry an aws:SourceAccount (or aws:SourceArn) condition", "reason": "without it a service acting for another account can be steered into assuming our role (confused deputy)"},
	"IAM-006": {"severity": "high", "title": "IAM, key and endpoint policies are valid JSON", "reason": "a policy the gate cannot read is a policy nobody verified"},
	"KMS-001": {"severity": "high", "title": "customer-managed keys rotate automatically, at least once a year (rotationPeriodInDays unset or at most 365)", "reason": "annual rotation limits how much data one key version protects; SOC 2 and PCI reviewers ask for it"},
	"KMS-002": {"severity": "high", "title": "a key policy statement that admits a service principal carries a condition (kms:ViaService, kms:EncryptionContext:*, aws:SourceAccount or aws:SourceArn)", "reason": "an unconditioned service grant lets that service use the key on behalf of any caller, in any account"},
	"KMS-003": {"severity": "high", "title": "the CloudWatch Logs principal is limited by ArnLike/ArnEquals on kms:EncryptionContext:aws:logs:arn", "reason": "AWS's documented way to limit the logs service to this environment's log groups"},
	"KMS-004": {"severity": "high", "title": "no key policy Allow to Principal \"*\" without kms:CallerAccount, aws:PrincipalAccount or aws:PrincipalOrgID", "reason": "\"*\" without an account condition opens the key to every AWS account"},
	"KMS-005": {"severity": "high", "title": "keys set an explicit deletion window (7 to 30 days)", "reason": "a deliberate window makes the time to undo a key deletion a reviewed decision"},
	"RDS-001": {"severity": "high", "title": "Aurora storage is encrypted with a customer-managed key", "reason": "encryption at rest under our key, whose policy and rotation we control"},
	"RDS-002": {"severity": "high", "title": "database instances are not publicly accessible", "reason": "a public endpoint exposes the database to the internet's password guessing"},
	"RDS-003": {"severity": "high", "class": "ephemeral", "title": "in ephemeral layers: skipFinalSnapshot is true", "reason": "every environment must be destroyable without manual steps; a final snapshot blocks and outlives `destroy`"},
	"RDS-004": {"severity": "high", "class": "ephemeral", "title": "in ephemeral layers: deletion protection is off", "reason": "destroyability: deletion protection makes `destroy` fail until someone changes the cluster by hand"},
	"RDS-005": {"severity": "high", "title": "the cluster's parameter group sets require_secure_transport=ON", "reason": "credentials and data must never cross the network in plaintext; Aurora MySQL accepts plaintext unless told otherwise"},
	"RDS-006": {"severity": "high", "title": "a cluster has at least two instances in different availability zones", "reason": "one AZ outage must not take the database (and rotation) down"},
	"RDS-007": {"severity": "high", "title": "the cluster's parameter group limits tls_version to TLS 1.2 or later", "reason": "TLS 1.0 and 1.1 are deprecated (RFC 8996)"},
	"RDS-008": {"severity": "high", "title": "backups are kept at least 7 days", "reason": "a week of point-in-time recovery covers a bad change found after a weekend"},
	"RDS-009": {"severity": "high", "title": "the cluster exports its audit, error and slowquery logs to CloudWatch, and its parameter group turns the audit on (server_audit_logging=1, server_audit_events with CONNECT and QUERY_DCL or QUERY, in capitals without spaces)", "reason": "the audit log is the evidence of who connected and what DCL/DDL ran"},
	"RDS-010": {"severity": "high", "title": "no cluster or instance has a master password input (a cluster's masterPassword, an instance's password, or their write-only forms)", "reason": "a password in the program passes through its config, the deployer's machine and (but for the write-only input) the state; RDS must generate and own it"},
	"RDS-011": {"severity": "high", "title": "every cluster has manageMasterUserPassword: true and masterUserSecretKmsKeyId a customer-managed key", "reason": "RDS then keeps the master password in a secret of its own and rotates it, with no copy anywhere else; under our key, whose policy decides who can decrypt it"},
	"RDS-012": {"severity": "high", "title": "with an existing cluster (existingClusterIdentifier), the database layer creates no RDS resource, no log group under /aws/rds/ and no secret rotation, and each of its security group rules is an aws:vpc rule resource naming a peer group (no CIDR) on one TCP port (no group, legacy rule or inline rule)", "reason": "a cluster the team already runs stays the team's: the vault may add only the rule that admits its rotator (and the rotator's own egress), never a second cluster, a parameter change, a log export or a change to the master secret's rotation"},
	"NET-001": {"severity": "high", "title": "no internet gateway (nor egress-only internet gateway)", "reason": "the vault has no reason to reach or be reached from the internet"},
	"NET-002": {"severity": "high", "title": "no NAT gateway", "reason": "AWS APIs are reached through interface endpoints; a NAT gateway would open a path to the internet"},
	"NET-003": {"severity": "high", "title": "no Elastic IP", "reason": "an Elastic IP is a public address"},
	"NET-004": {"severity": "high", "title": "no subnet maps public IPs on launch; with an existing VPC (existingVpcId), existingSubnetIds is a non-empty list of subnet IDs and the layer hands on (privateSubnetIds) no other subnet", "reason": "a public-IP subnet puts every interface launched in it on the internet. An existing subnet is no resource of the layer, so the gate cannot see its settings: it relies on the layer's check at preview (each existingSubnetIds subnet is in the VPC, maps no public IPs and routes to no internet gateway) and checks itself only that the subnets are named in config and that the vault is placed in no subnet that check did not look at"},
	"NET-005": {"severity": "high", "title": "no security group rule open to 0.0.0.0/0 or ::/0", "reason": "traffic is allowed only between the groups that need it"},
	"NET-006": {"severity": "high", "title": "the VPC has interface endpoints for Secrets Manager and KMS with private DNS; with an existing VPC (existingVpcId), each is such a created endpoint, a created endpoint without private DNS whose own DNS name the layer exports (secretsManagerEndpointUrl, kmsEndpointUrl), or one named in config (existingSecretsManagerEndpointId, existingKmsEndpointId) with a SecurityGroupAssociation of the vault's endpoints group (output endpointSecurityGroupId, a group the layer creates) to it", "reason": "without them the rotator cannot reach either service from a VPC without internet access; in a VPC the vault does not own, private DNS would send every other workload's calls through the vault's endpoint, so without it the vault's clients need the endpoint's own name; an existing endpoint is no resource of the layer, so the gate relies on the layer's check at preview that it is that service's, in the VPC and available (the URL output follows its private DNS: the regional name, or its own name), and checks itself that the endpoints group is associated with it, without which the rotator's security group rules do not reach it"},
	"NET-007": {"severity": "high", "title": "interface endpoint policies name their principals or restrict them by a principal condition (aws:PrincipalAccount, aws:PrincipalOrgID or aws:PrincipalArn); the values are not compared with the account", "reason": "the default endpoint policy lets any principal (other accounts' stolen credentials included) use the endpoint to move data out"},
	"NET-008": {"severity": "medium", "title": "the VPC has flow logs: in its own layer, or, for a layer named in flow_log_layers, a flow log on a VPC ID in the layer named there", "reason": "flow logs are the network evidence an incident review asks for first"},
	"LOG-001": {"severity": "high", "title": "every log group is encrypted with a KMS key", "reason": "logs carry user names, hosts and errors; they are encrypted under our key like the data"},
	"LOG-002": {"severity": "high", "title": "every log group has a retention", "reason": "logs kept forever cost money and keep personal data longer than any policy allows"},
	"LMB-001": {"severity": "high", "title": "Lambda functions run on provided.al2023", "reason": "the supported OS-only runtime for Go; older runtimes lose security patches"},
	"LMB-002": {"severity": "high", "title": "Lambda functions run in the VPC (subnets and security groups set)", "reason": "the rotator must reach the private database and the endpoints, and nothing else"},
	"LMB-003": {"severity": "high", "title": "a function's log group is created by the stack and KMS-encrypted", "reason": "otherwise Lambda creates /aws/lambda/<name> itself, encrypted only by CloudWatch Logs' own key rather than one we control, and kept forever"},
	"LMB-004": {"severity": "high", "title": "Lambda timeout is at most 300 seconds", "reason": "a rotation step that hangs must fail fast; Secrets Manager retries"},
	"LMB-005": {"severity": "high", "title": "a Lambda permission for an AWS service names sourceAccount and sourceArn", "reason": "without both, the service can invoke the function on behalf of other accounts or resources (confused deputy)"},
	"SEC-001": {"severity": "high", "title": "secrets are encrypted with a customer-managed key", "reason": "the aws/secretsmanager key's policy cannot be scoped or audited like ours"},
	"SEC-002": {"severity": "high", "title": "every secret has rotation configured", "reason": "a credential that never changes is a credential that leaks forever"},
	"SEC-003": {"severity": "high", "title": "rotation runs at least every 30 days", "reason": "the product's promise and the usual compliance ceiling"},
	"SEC-004": {"severity": "high", "title": "rotation names its rotation function, except the managed rotation of RDS's own master secret", "reason": "rotation without a function cannot change the database password; only RDS rotates its managed master secret without one"},
	"SEC-005": {"severity": "high", "title": "every secret has a secret policy with blockPublicPolicy: true and a Deny of secretsmanager:GetSecretValue to Principal \"*\" unless aws:PrincipalArn is one of named principals", "reason": "IAM alone lets any principal of the account whose policy grants GetSecretValue read the credentials; the Deny limits readers to the roles the stack names, and blockPublicPolicy refuses a later policy that opens the secret to other accounts"},
	"SEC-006": {"severity": "high", "title": "a layer whose cluster has RDS manage its master password sets that secret's rotation schedule (a SecretRotation without rotationLambdaArn on the rds! master secret)", "reason": "RDS would rotate on a schedule of its own that no code declares; declared, the period is reviewed and SEC-003 holds it to 30 days"},
	"SNS-001": {"severity": "high", "title": "SNS topics are encrypted with a customer-managed key", "reason": "alerts name secrets and failures; the aws/sns key cannot be granted to EventBridge and CloudWatch narrowly"},
	"CTL-001": {"severity": "high", "title": "CloudTrail trails validate log files and encrypt with a KMS key", "reason": "the audit record of secret access must be tamper-evident and encrypted"},
	"RES-001": {"severity": "high", "title": "resource policies (bucket, topic, secret, queue) admit a service only with aws:SourceArn/aws:SourceAccount, and \"*\" only with an account or organization condition", "reason": "a resource policy is the door other accounts knock on; without these conditions a service acting for anyone, or anyone, walks in"},
	"S3-001": {"severity": "high", "title": "every bucket has a public access block with all four settings on", "reason": "a bucket of audit logs must never become public through a later ACL or policy change"},
	"S3-002": {"severity": "high", "title": "every bucket encrypts by default with a customer-managed KMS key", "reason": "the trail's log files are evidence; they are encrypted under a key whose policy we control"},
	"S3-003": {"severity": "medium", "title": "a trail's bucket has an enabled lifecycle rule that expires log files (expiration.days, no sooner than the bucket's Object Lock default retention) and their noncurrent versions", "reason": "without one the audit bucket grows and is billed forever; expiring before the Object Lock retention would only leave delete markers on locked versions"},
	"GEN-001": {"severity": "high", "class": "ephemeral", "title": "in ephemeral layers: no resource is protected or retained on delete, except retainOnDelete on the managed rotation of RDS's master secret", "reason": "every environment must be destroyable without manual steps; deleting that rotation would turn RDS's rotation off, and RDS deletes the secret, schedule and all, with the cluster"},
	"GEN-002": {"severity": "high", "title": "environmentClass, where set, is ephemeral or production, and one value per layer", "reason": "the class decides which rules apply (ephemeral: destroyable; production: kept); an unknown value would escape both sets"},
	"PRD-001": {"severity": "high", "class": "production", "title": "in production layers: clusters, cluster instances, KMS keys, secrets and S3 buckets have the resource option protect: true", "reason": "a production database, its keys, its credentials and its audit log cannot be recreated; protect makes `destroy` and replacements stop before deleting them"},
	"PRD-002": {"severity": "high", "class": "production", "title": "in production layers: clusters (and DB instances) have deletionProtection: true, skipFinalSnapshot: false and a finalSnapshotIdentifier", "reason": "deletion protection stops a delete outside Pulumi; the final snapshot keeps the data if the cluster is deleted all the same"},
	"PRD-003": {"severity": "high", "class": "production", "title": "in production layers: secrets have recoveryWindowInDays of at least 7 (unset: 30) and KMS keys deletionWindowInDays 30", "reason": "a secret or key deleted by mistake must be recoverable; a deleted key makes everything it encrypted unreadable, so it gets the longest window"},
	"PRD-004": {"severity": "high", "class": "production", "title": "in production layers: log groups keep events at least 365 days", "reason": "audit evidence (database audit log, trail, flow logs) is asked for up to a year back"},
	"PRD-005": {"severity": "high", "class": "production", "title": "in production layers: the trail's bucket has forceDestroy not true, objectLockEnabled: true, a BucketVersioningV2 with status Enabled and a BucketObjectLockConfigurationV2 with a default retention of at least 365 days (no bucket when the layer uses an existing trail)", "reason": "the trail's log files are evidence: versioning and a year of Object Lock keep them from being overwritten or deleted, and forceDestroy would empty the bucket on delete"},
}

# no_resource_actions: actions that AWS's Service Authorization Reference lists
# without any resource type, so "*" is the only Resource they accept (IAM-002).
# Keep it short; each entry says why. Actions that DO take resources stay out,
# e.g. ec2:CreateNetworkInterface (subnet, security-group, network-interface),
# ec2:DeleteNetworkInterface (network-interface), and
# ec2:AssignPrivateIpAddresses / ec2:UnassignPrivateIpAddresses
# (network-interface, with ec2:Subnet and ec2:Vpc conditions).
no_resource_actions := {
	"secretsmanager:getrandompassword": "generates a random string; it touches no secret, so the reference lists no resource type",
	"ec2:describenetworkinterfaces": "EC2 Describe* actions support no resource-level permissions; Lambda calls it to manage a VPC function's interfaces",
	"ec2:describesubnets": "EC2 Describe* actions support no resource-level permissions",
	"ec2:describesecuritygroups": "EC2 Describe* actions support no resource-level permissions",
	"ec2:describevpcs": "EC2 Describe* actions support no resource-level permissions",
}

# source_account_services: service principals whose sts:AssumeRole requests
# carry aws:SourceAccount/aws:SourceArn, so their trust policies must use them
# (IAM-005). Other services' trust policies are left alone: a condition the
# service does not send would make the role unassumable.
source_account_services := {
	"lambda.amazonaws.com": "the rotator's execution role; the project requires aws:SourceAccount on it (issue 4)",
	"events.amazonaws.com": "EventBridge documents aws:SourceAccount/aws:SourceArn for roles its rules assume",
	"scheduler.amazonaws.com": "EventBridge Scheduler documents aws:SourceAccount/aws:SourceArn for its execution roles",
	"vpc-flow-logs.amazonaws.com": "VPC Flow Logs documents aws:SourceAccount and aws:SourceArn (arn:aws:ec2:<region>:<account>:vpc-flow-log/*) for its delivery role (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html)",
}

# flow_log_layers: layers whose VPC gets its flow log in a later layer (NET-008),
# by the layer that creates the VPC: the layer that must create the flow log,
# and the output through which it reads the VPC's ID. The gate evaluates one
# layer at a time, so this hand-over is what lets it check both sides.
flow_log_layers := {"network": {
	"layer": "database",
	"output": "vpcId",
	"reason": "the flow log's log group is encrypted with the logs key, which the kms layer creates after the network; the database layer is the first that imports both",
}}

# name_exceptions: names AWS (or global uniqueness) forces into another shape
# than {resource-type}-{environmentSuffix} (NAME-001). %s is the suffix.
name_exceptions := [
	{
		"pattern": `^/aws/rds/cluster/[a-z0-9-]*-%s/(audit|error|general|slowquery)$`,
		"reason": "RDS exports a cluster's logs into /aws/rds/cluster/<cluster-id>/<log>; the stack creates these groups first (encrypted, with retention) under exactly that name, and the cluster id carries the suffix",
	},
	{
		"pattern": `^cloudtrail-[a-z]{2}(-gov)?-[a-z]+-[0-9]-%s-[0-9]{12}$`,
		"reason": "S3 bucket names are global across all AWS accounts and regions; the region before and the account id after the suffix keep the CloudTrail bucket's name unique",
	},
]
