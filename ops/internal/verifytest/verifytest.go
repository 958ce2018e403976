// Package verifytest holds fakes of the AWS services ops/verify reads, set
// up as a healthy environment (Healthy), for the tests of ops/verify and of
// the vault command. Every fake records the calls it gets, so a test can
// assert that only read calls were made.
package verifytest

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/dbvault/dbvault/ops/verify"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
	"github.com/dbvault/dbvault/stacks/secrets"
)

// Names of the healthy environment "dev".
const (
	Account = "123456789012"
	Region  = "us-east-1"
	// TrailArn and TrailBucket are the trail and bucket the secrets
	// layer creates in "dev" (kit.Names' TrailName and TrailBucketName).
	TrailArn     = "arn:aws:cloudtrail:us-east-1:123456789012:trail/trail-dev"
	TrailBucket  = "cloudtrail-us-east-1-dev-123456789012"
	TrailDays    = 90
	RuleName     = "rotation-failed-dev"
	TopicArn     = "arn:aws:sns:us-east-1:123456789012:vault-alerts-dev"
	FunctionName = "rotator-dev"
	FunctionArn  = "arn:aws:lambda:us-east-1:123456789012:function:rotator-dev"
	// RotatorRuleName and RotatorRole are the rotator-changes rule and
	// the rotator's role.
	RotatorRuleName = "rotator-changes-dev"
	// SilencingRuleName is the alert-changes rule.
	SilencingRuleName = "alert-changes-dev"
	RotatorRoleName   = "rotator-role-us-east-1-dev"
	RotatorRole       = "arn:aws:iam::123456789012:role/" + RotatorRoleName
	ClusterID         = "aurora-cluster-dev"
	ParameterGroup    = "aurora-params-dev"
	VpcID             = "vpc-0a1b2c3d"
	FlowLogID         = "fl-0a1b2c3d4e5f60718"
	SMEndpointID      = "vpce-0sm"
	KMSEndpointID     = "vpce-0kms"
	SecretsKeyArn     = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0" // #nosec G101 -- a key ARN, not a credential
	RotationDays      = 30
	MasterDays        = 7
)

// Subnets and zones of the healthy environment.
var (
	Subnets = []string{"subnet-0a", "subnet-0b"}
	Zones   = []string{"use1-az1", "use1-az2"}
)

// The secrets of the healthy environment (the fake Secrets Manager's).
var (
	AppSecrets = map[string]string{ // #nosec G101 -- secret ARNs, not credentials
		"app":       "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-credentials-app-dev-AbCdEf",
		"reporting": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-credentials-reporting-dev-GhIjKl",
	}
	MasterSecret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-0f1e2d3c-MnOpQr" // #nosec G101 -- a secret ARN, not a credential
	// TeamMasterSecret is a team's own secret of an existing cluster's
	// master credentials (existingMasterSecretArn), which RDS does not
	// manage.
	TeamMasterSecret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-master-StUvWx" // #nosec G101 -- a secret ARN, not a credential
	// TeamRotator is the team's function that rotates TeamMasterSecret.
	TeamRotator = "arn:aws:lambda:us-east-1:123456789012:function:orders-master-rotation"
)

// PatternFor is the rotation-failed rule's event pattern as the secrets
// layer writes it (secrets.FailurePattern, which the vault command's tests
// compare it with) for these secrets: each one's ARN, partial ARN and name.
func PatternFor(secretArns []string) string {
	var ids []string
	for _, a := range secretArns {
		partial := a[:len(a)-7]
		_, name, _ := strings.Cut(partial, ":secret:")
		ids = append(ids, a, partial, name)
	}
	b, err := json.Marshal(map[string]any{
		"source":      []string{"aws.secretsmanager"},
		"detail-type": []string{"AWS Service Event via CloudTrail"},
		"detail": map[string]any{
			"eventName":           []string{"RotationFailed", "RotationAbandoned"},
			"additionalEventData": map[string]any{"SecretId": ids},
		},
	})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// VaultSecrets are the secrets of the healthy environment in the order
// verify reads them: the application secrets by user, then the master.
func VaultSecrets() []string {
	var out []string
	for _, u := range []string{"app", "reporting"} {
		out = append(out, AppSecrets[u])
	}
	return append(out, MasterSecret)
}

// OtherSecret is a secret of the same account that is not the vault's (of
// another environment).
const OtherSecret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-credentials-app-staging-StUvWx" // #nosec G101 -- a secret ARN, not a credential

// RotationRecord is the CloudTrail record of a Secrets Manager service
// event (eventName RotationSucceeded, RotationFailed, ...) for secretARN,
// shaped as the vault's rule expects: the ARN at
// additionalEventData.SecretId. Tests move it elsewhere.
func RotationRecord(eventName, secretARN string, at time.Time) map[string]any {
	return map[string]any{
		"eventVersion":        "1.08",
		"userIdentity":        map[string]any{"accountId": Account, "invokedBy": "secretsmanager.amazonaws.com"},
		"eventTime":           at.UTC().Format(time.RFC3339),
		"eventSource":         "secretsmanager.amazonaws.com",
		"eventName":           eventName,
		"awsRegion":           Region,
		"sourceIPAddress":     "secretsmanager.amazonaws.com",
		"userAgent":           "secretsmanager.amazonaws.com",
		"requestParameters":   nil,
		"responseElements":    nil,
		"additionalEventData": map[string]any{"SecretId": secretARN},
		"eventID":             fmt.Sprintf("e%07d-0000-4000-8000-%012d", at.Unix()%10000000, len(secretARN)),
		"readOnly":            false,
		"eventType":           "AwsServiceEvent",
		"managementEvent":     true,
		"recipientAccountId":  Account,
		"eventCategory":       "Management",
	}
}

// LambdaRecord is the CloudTrail record of a Lambda API call logged as
// eventName with params as its requestParameters (the create's
// Environment and ZipFile left out, as Lambda logs it).
func LambdaRecord(eventName string, params map[string]any, at time.Time) map[string]any {
	return APIRecord("lambda.amazonaws.com", eventName, params, at)
}

// APIRecord is the CloudTrail record of an API call of eventSource.
func APIRecord(eventSource, eventName string, params map[string]any, at time.Time) map[string]any {
	return map[string]any{
		"eventVersion":       "1.09",
		"userIdentity":       map[string]any{"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/vault-deployer/deploy", "accountId": Account},
		"eventTime":          at.UTC().Format(time.RFC3339),
		"eventSource":        eventSource,
		"eventName":          eventName,
		"awsRegion":          Region,
		"sourceIPAddress":    "198.51.100.7",
		"userAgent":          "APN/1.0 HashiCorp/1.0 Terraform",
		"requestParameters":  params,
		"responseElements":   map[string]any{"functionName": params["functionName"]},
		"eventID":            fmt.Sprintf("1a%06d-0000-4000-8000-%012d", at.Unix()%1000000, len(eventName)),
		"readOnly":           false,
		"eventType":          "AwsApiCall",
		"managementEvent":    true,
		"recipientAccountId": Account,
		"eventCategory":      "Management",
	}
}

// SilencingPattern is the alert-changes rule's pattern in "dev".
func SilencingPattern() string {
	p, err := secrets.AlertChangesPattern(secrets.Silencing{
		Rules:      []string{RuleName, "secret-changes-dev", RotatorRuleName, SilencingRuleName},
		Alarm:      "rotator-errors-dev",
		TopicArn:   TopicArn,
		TrailNames: []string{"trail-dev", TrailArn},
	})
	if err != nil {
		panic(err)
	}
	return p
}

// RotatorPattern is the rotator-changes rule's pattern in "dev".
func RotatorPattern() string {
	p, err := secrets.RotatorChangesPattern("aws", Region, Account, FunctionName, RotatorRoleName)
	if err != nil {
		panic(err)
	}
	return p
}

// EventOf is record as LookupEvents returns it.
func EventOf(record map[string]any) cttypes.Event {
	b, err := json.Marshal(record)
	if err != nil {
		panic(err)
	}
	at, _ := time.Parse(time.RFC3339, fmt.Sprint(record["eventTime"]))
	return cttypes.Event{
		EventId: aws.String(fmt.Sprint(record["eventID"])), EventName: aws.String(fmt.Sprint(record["eventName"])),
		EventSource: aws.String(fmt.Sprint(record["eventSource"])), EventTime: aws.Time(at),
		ReadOnly: aws.String("false"), Username: aws.String("secretsmanager.amazonaws.com"),
		CloudTrailEvent: aws.String(string(b)),
	}
}

// Policy is a resource policy as the secrets layer writes it
// (secrets.AppSecretPolicy): a reader's Allow, then its three Denies
// (verify.PolicyStatements), each sparing named roles and AWS services.
var Policy = func() string {
	s, err := secrets.AppSecretPolicy([]string{Reader}, RotatorRole, []string{Administrator}).JSON()
	if err != nil {
		panic(err)
	}
	return s
}()

// MasterPolicy is the master secret's resource policy as the secrets layer
// writes it (secrets.MasterSecretPolicy).
var MasterPolicy = func() string {
	s, err := secrets.MasterSecretPolicy(RotatorRole, []string{Administrator}, kit.RDSServiceLinkedRole("aws", "123456789012")).JSON()
	if err != nil {
		panic(err)
	}
	return s
}()

// CodeSha256 is the rotator's package's hash, as deployed and as Lambda
// reports it.
const CodeSha256 = "x7Pq0mR1dYp3oR9y0sWl3cYv2m8Zt1a0b2c3d4e5f6g="

// Administrator is the kms layer's one administrator, and Reader the
// application secrets' reader.
const (
	Administrator = "arn:aws:iam::123456789012:role/vault-admin"
	Reader        = "arn:aws:iam::123456789012:role/app"
)

// ExplicitDeny is KMS's answer to a direct use of the secrets key that its
// policy's OnlyThroughSecretsManager Deny refuses.
func ExplicitDeny() error {
	return &smithy.GenericAPIError{Code: "AccessDeniedException",
		Message: "User: arn:aws:iam::123456789012:role/vault-admin is not authorized to perform: kms:Decrypt on resource: " + SecretsKeyArn + " with an explicit deny in a resource-based policy"}
}

// Calls records "Service.Operation" of every call made.
type Calls struct {
	mu   sync.Mutex
	list []string
}

// Record adds a call.
func (c *Calls) Record(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list = append(c.list, op)
}

// List returns the calls made so far.
func (c *Calls) List() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.list)
}

// Writes returns the calls that are not reads (Describe*, Get*, List*,
// Lookup*, Filter*, TestEventPattern, a dry run of KMS Decrypt).
func (c *Calls) Writes() []string {
	var out []string
	for _, op := range c.List() {
		_, name, _ := strings.Cut(op, ".")
		if !strings.HasPrefix(name, "Describe") && !strings.HasPrefix(name, "Get") && !strings.HasPrefix(name, "List") &&
			!strings.HasPrefix(name, "Lookup") && !strings.HasPrefix(name, "Filter") && name != "TestEventPattern" && name != decryptDryRun {
			out = append(out, op)
		}
	}
	return out
}

// Secret is one secret of the fake Secrets Manager.
type Secret struct {
	Describe secretsmanager.DescribeSecretOutput
	Policy   string
}

// Fixture is an environment as the fakes answer it; tests break one field.
type Fixture struct {
	Calls *Calls
	// TrailArn is the trail CloudTrail knows (TrailArn, the vault's own).
	TrailArn string
	// TrailInfo is what DescribeTrails says of TrailArn (its ARN is set
	// when answered).
	TrailInfo cttypes.Trail
	Trail     cloudtrail.GetTrailStatusOutput
	Selectors cloudtrail.GetEventSelectorsOutput
	// Lifecycle are the trail bucket's lifecycle rules; nil: it has no
	// lifecycle configuration.
	Lifecycle []s3types.LifecycleRule
	Rule      eventbridge.DescribeRuleOutput
	// RotatorRule is the rotator-changes rule, SilencingRule the
	// alert-changes rule, each with its targets.
	RotatorRule       eventbridge.DescribeRuleOutput
	RotatorTargets    []ebtypes.Target
	SilencingRule     eventbridge.DescribeRuleOutput
	SilencingTargets  []ebtypes.Target
	Targets           []ebtypes.Target
	FailedInvocations []float64
	Function          lambda.GetFunctionConfigurationOutput
	// FunctionPolicy is the rotator's resource-based policy; empty is
	// InvokePolicy over the outputs' application secrets, as the layer
	// writes it.
	FunctionPolicy string
	Cluster        rdstypes.DBCluster
	Parameters     []rdstypes.Parameter
	Endpoints      []ec2types.VpcEndpoint
	Subnets        []ec2types.Subnet
	FlowLogs       []ec2types.FlowLog
	// AuditLog are the lines of the cluster's audit log group; nil: the
	// group does not exist.
	AuditLog []string
	// Secrets by ARN.
	Secrets map[string]*Secret
	Outputs verify.Outputs
	// History is CloudTrail's event history, newest first.
	History []cttypes.Event
	// Lookups are the LookupEvents requests made; Tested the events
	// TestEventPattern was given.
	Lookups []cloudtrail.LookupEventsInput
	Tested  []string
	// LookupErr, when set, is LookupEvents' answer.
	LookupErr error
	// KeyAnswer is KMS's answer to a dry run of Decrypt on the secrets
	// key (nil: it would succeed, DryRunOperationException).
	KeyAnswer error
}

// Healthy is an environment where every check passes.
func Healthy() *Fixture {
	now := time.Now().UTC()
	lastRotated := now.Add(-2 * time.Hour)
	f := &Fixture{
		Calls:     &Calls{},
		TrailArn:  TrailArn,
		TrailInfo: cttypes.Trail{HomeRegion: aws.String("us-east-1"), IsMultiRegionTrail: aws.Bool(false), S3BucketName: aws.String("cloudtrail-us-east-1-dev-123456789012")},
		Trail:     cloudtrail.GetTrailStatusOutput{IsLogging: aws.Bool(true), LatestDeliveryTime: aws.Time(now.Add(-5 * time.Minute))},
		// As stacks/secrets/trail.go sets them (trailSelectors,
		// trailLifecycle), in the order CloudTrail and S3 may answer.
		Selectors: cloudtrail.GetEventSelectorsOutput{TrailARN: aws.String(TrailArn), AdvancedEventSelectors: []cttypes.AdvancedEventSelector{{
			Name: aws.String("Management read events except KMS and RDS Data API"),
			FieldSelectors: []cttypes.AdvancedFieldSelector{
				{Field: aws.String("eventSource"), NotEquals: []string{"rdsdata.amazonaws.com", "kms.amazonaws.com"}},
				{Field: aws.String("readOnly"), Equals: []string{"true"}},
				{Field: aws.String("eventCategory"), Equals: []string{"Management"}},
			}}, {
			Name: aws.String("Management write events except RDS Data API"),
			FieldSelectors: []cttypes.AdvancedFieldSelector{
				{Field: aws.String("eventCategory"), Equals: []string{"Management"}},
				{Field: aws.String("readOnly"), Equals: []string{"false"}},
				{Field: aws.String("eventSource"), NotEquals: []string{"rdsdata.amazonaws.com"}},
			}}}},
		Lifecycle: []s3types.LifecycleRule{{ID: aws.String("expire-trail-log-files"), Status: s3types.ExpirationStatusEnabled,
			Filter:                      &s3types.LifecycleRuleFilter{Prefix: aws.String("AWSLogs/")},
			Expiration:                  &s3types.LifecycleExpiration{Days: aws.Int32(TrailDays)},
			NoncurrentVersionExpiration: &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(1)}}},
		Rule: eventbridge.DescribeRuleOutput{Name: aws.String(RuleName), State: ebtypes.RuleStateEnabled, EventPattern: aws.String(PatternFor(VaultSecrets())),
			Arn: aws.String("arn:aws:events:us-east-1:123456789012:rule/" + RuleName)},
		RotatorRule: eventbridge.DescribeRuleOutput{Name: aws.String(RotatorRuleName), State: ebtypes.RuleStateEnabled, EventPattern: aws.String(RotatorPattern()),
			Arn: aws.String("arn:aws:events:us-east-1:123456789012:rule/" + RotatorRuleName)},
		SilencingRule: eventbridge.DescribeRuleOutput{Name: aws.String(SilencingRuleName), State: ebtypes.RuleStateEnabled, EventPattern: aws.String(SilencingPattern()),
			Arn: aws.String("arn:aws:events:us-east-1:123456789012:rule/" + SilencingRuleName)},
		Targets:          []ebtypes.Target{{Id: aws.String("alerts"), Arn: aws.String(TopicArn)}},
		RotatorTargets:   []ebtypes.Target{{Id: aws.String("vault-alerts"), Arn: aws.String(TopicArn)}},
		SilencingTargets: []ebtypes.Target{{Id: aws.String("vault-alerts"), Arn: aws.String(TopicArn)}},
		Function: lambda.GetFunctionConfigurationOutput{FunctionName: aws.String(FunctionName), FunctionArn: aws.String(FunctionArn), CodeSha256: aws.String(CodeSha256),
			State: lambdatypes.StateActive, LastUpdateStatus: lambdatypes.LastUpdateStatusSuccessful,
			VpcConfig: &lambdatypes.VpcConfigResponse{SubnetIds: []string{Subnets[1], Subnets[0]}, VpcId: aws.String(VpcID)}},
		Cluster: rdstypes.DBCluster{DBClusterIdentifier: aws.String(ClusterID), Status: aws.String("available"),
			DBClusterParameterGroup: aws.String(ParameterGroup),
			MasterUserSecret:        &rdstypes.MasterUserSecret{SecretArn: aws.String(MasterSecret), SecretStatus: aws.String("active"), KmsKeyId: aws.String(SecretsKeyArn)},
			DBClusterMembers: []rdstypes.DBClusterMember{
				{DBInstanceIdentifier: aws.String("aurora-instance-1-dev"), DBClusterParameterGroupStatus: aws.String("in-sync"), IsClusterWriter: aws.Bool(true)},
				{DBInstanceIdentifier: aws.String("aurora-instance-2-dev"), DBClusterParameterGroupStatus: aws.String("in-sync")},
			}},
		Parameters: []rdstypes.Parameter{
			{ParameterName: aws.String("require_secure_transport"), ParameterValue: aws.String("ON"), Source: aws.String("user")},
			{ParameterName: aws.String("tls_version"), ParameterValue: aws.String("TLSv1.2,TLSv1.3"), Source: aws.String("user")},
		},
		// As MariaDB's audit plugin writes a password change (Aurora's
		// Advanced Auditing writes the same fields).
		AuditLog: []string{
			"20261207 13:38:00,ip-10-0-1-5,root,10.0.1.9,2015,8682,CONNECT,,,0",
			AuditLine(`ALTER USER 'app'@'%' IDENTIFIED BY *****`),
		},
		FlowLogs: []ec2types.FlowLog{{FlowLogId: aws.String(FlowLogID), ResourceId: aws.String(VpcID), FlowLogStatus: aws.String("ACTIVE"),
			DeliverLogsStatus: aws.String("SUCCESS"), LogGroupName: aws.String("vpc-flow-logs-dev")}},
		// The service answers the state in lower case.
		Endpoints: []ec2types.VpcEndpoint{
			{VpcEndpointId: aws.String(SMEndpointID), ServiceName: aws.String("com.amazonaws.us-east-1.secretsmanager"), State: "available", PrivateDnsEnabled: aws.Bool(true), VpcId: aws.String(VpcID), DnsEntries: endpointNames(SMEndpointID+"-1a2b", "secretsmanager")},
			{VpcEndpointId: aws.String(KMSEndpointID), ServiceName: aws.String("com.amazonaws.us-east-1.kms"), State: "available", PrivateDnsEnabled: aws.Bool(true), VpcId: aws.String(VpcID), DnsEntries: endpointNames(KMSEndpointID+"-3c4d", "kms")},
		},
		Subnets: []ec2types.Subnet{
			{SubnetId: aws.String(Subnets[0]), AvailabilityZoneId: aws.String(Zones[0]), AvailabilityZone: aws.String("us-east-1a"), VpcId: aws.String(VpcID)},
			{SubnetId: aws.String(Subnets[1]), AvailabilityZoneId: aws.String(Zones[1]), AvailabilityZone: aws.String("us-east-1b"), VpcId: aws.String(VpcID)},
		},
		Secrets:   map[string]*Secret{},
		KeyAnswer: ExplicitDeny(),
		// The application secret's first rotation, after another
		// environment's, and RDS's rotation of the master secret before.
		History: []cttypes.Event{
			EventOf(RotationRecord("RotationSucceeded", OtherSecret, now.Add(-time.Hour))),
			EventOf(RotationRecord("RotationSucceeded", AppSecrets["app"], lastRotated)),
			EventOf(RotationRecord("RotationSucceeded", MasterSecret, lastRotated.Add(-time.Hour))),
			// The deploy's creation of the rotator, after another function's.
			EventOf(LambdaRecord("CreateFunction20150331", map[string]any{"functionName": "someone-elses", "role": "arn:aws:iam::123456789012:role/other"}, lastRotated.Add(-2*time.Hour))),
			EventOf(LambdaRecord("CreateFunction20150331", map[string]any{"functionName": FunctionName, "role": RotatorRole, "runtime": "provided.al2023"}, lastRotated.Add(-3*time.Hour))),
			// The deploy's rules.
			EventOf(APIRecord("events.amazonaws.com", "PutRule", map[string]any{"name": SilencingRuleName, "state": "ENABLED"}, lastRotated.Add(-3*time.Hour+2*time.Minute))),
			// Then the secrets' permission to invoke it.
			EventOf(LambdaRecord("AddPermission20150331v2", map[string]any{"functionName": FunctionName, "principal": "secretsmanager.amazonaws.com", "action": "lambda:InvokeFunction"}, lastRotated.Add(-3*time.Hour+time.Minute))),
		},
	}
	for user, arn := range AppSecrets {
		f.Secrets[arn] = &Secret{Policy: Policy, Describe: secretsmanager.DescribeSecretOutput{
			ARN: aws.String(arn), Name: aws.String("db-credentials-" + user + "-dev"),
			RotationEnabled: aws.Bool(true), RotationLambdaARN: aws.String(FunctionArn),
			RotationRules:    &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(RotationDays)},
			LastRotatedDate:  aws.Time(lastRotated),
			NextRotationDate: aws.Time(lastRotated.Add(RotationDays * 24 * time.Hour)),
			KmsKeyId:         aws.String(SecretsKeyArn),
			Tags:             ComplianceTags(),
			VersionIdsToStages: map[string][]string{
				"11111111-1111-1111-1111-111111111111": {"AWSCURRENT"},
				"00000000-0000-0000-0000-000000000000": {"AWSPREVIOUS"},
			}}}
	}
	f.Secrets[MasterSecret] = &Secret{Policy: MasterPolicy, Describe: secretsmanager.DescribeSecretOutput{
		ARN: aws.String(MasterSecret), Name: aws.String("rds!cluster-0f1e2d3c"), OwningService: aws.String("rds"),
		RotationEnabled: aws.Bool(true),
		RotationRules:   &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(MasterDays)},
		LastRotatedDate: aws.Time(lastRotated),
		VersionIdsToStages: map[string][]string{
			"22222222-2222-2222-2222-222222222222": {"AWSCURRENT"},
		}}}
	apps := map[string]any{}
	for u, a := range AppSecrets {
		apps[u] = a
	}
	f.Outputs = verify.Outputs{
		"network": { // #nosec G101 -- stack output names and fake ids, not credentials
			"vpcId":                     VpcID,
			"privateSubnetIds":          []any{Subnets[0], Subnets[1]},
			"availabilityZoneIds":       []any{Zones[0], Zones[1]},
			"secretsManagerEndpointId":  SMEndpointID,
			"kmsEndpointId":             KMSEndpointID,
			"secretsManagerEndpointUrl": "https://secretsmanager.us-east-1.amazonaws.com",
			"kmsEndpointUrl":            "https://kms.us-east-1.amazonaws.com",
		},
		"kms": {
			"secretsKeyArn":  SecretsKeyArn,
			"administrators": []any{Administrator},
		},
		"database": {
			"clusterIdentifier": ClusterID,
			"masterSecretArn":   MasterSecret,
			"flowLogId":         FlowLogID,
		},
		"secrets": {
			"appSecretArns":          apps,
			"masterSecretArn":        MasterSecret,
			"rotatorFunctionName":    FunctionName,
			"rotatorFunctionArn":     FunctionArn,
			"alertsTopicArn":         TopicArn,
			"trailArn":               TrailArn,
			"rotationFailedRuleName": RuleName,
			"rotatorChangesRuleName": RotatorRuleName,
			"alertChangesRuleName":   SilencingRuleName,
			"rotatorRoleArn":         RotatorRole,
			"rotatorCodeSha256":      CodeSha256,
			"rotationDays":           float64(RotationDays),
		},
	}
	return f
}

// UseSecrets points the outputs (and the cluster) at other secrets, e.g.
// those of an emulator.
func (f *Fixture) UseSecrets(apps map[string]string, master string) {
	m := map[string]any{}
	for u, a := range apps {
		m[u] = a
	}
	f.Outputs["secrets"]["appSecretArns"] = m
	f.Outputs["secrets"]["masterSecretArn"] = master
	f.Outputs["database"]["masterSecretArn"] = master
	f.Cluster.MasterUserSecret.SecretArn = aws.String(master)
	// The rule and the event history name the new secrets.
	var arns []string
	var pairs []string
	for _, u := range []string{"app", "reporting"} {
		if a, ok := apps[u]; ok {
			arns = append(arns, a)
			pairs = append(pairs, AppSecrets[u], a)
		}
	}
	arns = append(arns, master)
	pairs = append(pairs, MasterSecret, master)
	f.Rule.EventPattern = aws.String(PatternFor(arns))
	r := strings.NewReplacer(pairs...)
	for i, e := range f.History {
		f.History[i].CloudTrailEvent = aws.String(r.Replace(aws.ToString(e.CloudTrailEvent)))
	}
}

// UseExistingCluster makes the environment serve a cluster the team already
// runs, as the database layer exports it (existingCluster true): the secrets
// layer then writes no resource policy on the master secret, which keeps
// the team's (none here).
func (f *Fixture) UseExistingCluster() {
	f.Outputs["database"]["existingCluster"] = true
	f.Secrets[aws.ToString(f.Cluster.MasterUserSecret.SecretArn)].Policy = ""
}

// UseTeamMasterSecret makes the existing cluster's master credentials the
// team's own secret, TeamMasterSecret, as when RDS does not manage the
// master password: the cluster has no MasterUserSecret, and the team
// rotates the secret with its own function every 90 days.
func (f *Fixture) UseTeamMasterSecret() {
	f.UseExistingCluster()
	apps := map[string]string{}
	for u, a := range f.Outputs["secrets"]["appSecretArns"].(map[string]any) {
		apps[u] = a.(string)
	}
	f.UseSecrets(apps, TeamMasterSecret)
	f.Cluster.MasterUserSecret = nil
	master := *f.Secrets[MasterSecret]
	master.Policy = ""
	master.Describe.ARN, master.Describe.Name, master.Describe.OwningService = aws.String(TeamMasterSecret), aws.String("orders-master"), nil
	master.Describe.RotationLambdaARN = aws.String(TeamRotator)
	master.Describe.RotationRules = &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(90)}
	f.Secrets[TeamMasterSecret] = &master
	delete(f.Secrets, MasterSecret)
}

// UseAccountTrail makes the environment use a trail of the account
// (existingTrailName) instead of its own.
func (f *Fixture) UseAccountTrail(arn string) {
	f.TrailArn = arn
	f.Outputs["secrets"]["trailArn"] = arn
}

// Clients are fakes answering from f (Secrets Manager included).
func (f *Fixture) Clients() verify.Clients {
	return verify.Clients{
		CloudTrail: trail{f}, EventBridge: rules{f}, CloudWatch: watch{f}, Logs: logs{f}, Lambda: fn{f},
		SecretsManager: sm{f}, KMS: key{f}, RDS: db{f}, EC2: ec2Fake{f}, S3: bucket{f},
	}
}

// Recording wraps a real Secrets Manager client (the emulator's) so its
// calls are recorded too.
func Recording(api verify.SecretsManagerAPI, calls *Calls) verify.SecretsManagerAPI {
	return recordingSM{api, calls}
}

type recordingSM struct {
	api   verify.SecretsManagerAPI
	calls *Calls
}

func (r recordingSM) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	r.calls.Record("SecretsManager.DescribeSecret")
	return r.api.DescribeSecret(ctx, in, o...)
}

func (r recordingSM) ListSecretVersionIds(ctx context.Context, in *secretsmanager.ListSecretVersionIdsInput, o ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretVersionIdsOutput, error) {
	r.calls.Record("SecretsManager.ListSecretVersionIds")
	return r.api.ListSecretVersionIds(ctx, in, o...)
}

func (r recordingSM) GetResourcePolicy(ctx context.Context, in *secretsmanager.GetResourcePolicyInput, o ...func(*secretsmanager.Options)) (*secretsmanager.GetResourcePolicyOutput, error) {
	r.calls.Record("SecretsManager.GetResourcePolicy")
	return r.api.GetResourcePolicy(ctx, in, o...)
}

type trail struct{ f *Fixture }

func (t trail) DescribeTrails(_ context.Context, in *cloudtrail.DescribeTrailsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error) {
	t.f.Calls.Record("CloudTrail.DescribeTrails")
	if len(in.TrailNameList) != 1 || in.TrailNameList[0] != t.f.TrailArn || !aws.ToBool(in.IncludeShadowTrails) {
		return &cloudtrail.DescribeTrailsOutput{}, nil
	}
	tr := t.f.TrailInfo
	tr.TrailARN = aws.String(t.f.TrailArn)
	return &cloudtrail.DescribeTrailsOutput{TrailList: []cttypes.Trail{tr}}, nil
}

func (t trail) GetTrailStatus(_ context.Context, in *cloudtrail.GetTrailStatusInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error) {
	t.f.Calls.Record("CloudTrail.GetTrailStatus")
	if aws.ToString(in.Name) != t.f.TrailArn {
		return nil, fmt.Errorf("TrailNotFoundException: %s", aws.ToString(in.Name))
	}
	out := t.f.Trail
	return &out, nil
}

func (t trail) GetEventSelectors(_ context.Context, in *cloudtrail.GetEventSelectorsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error) {
	t.f.Calls.Record("CloudTrail.GetEventSelectors")
	if aws.ToString(in.TrailName) != t.f.TrailArn {
		return nil, fmt.Errorf("TrailNotFoundException: %s", aws.ToString(in.TrailName))
	}
	out := t.f.Selectors
	return &out, nil
}

// LookupEvents answers from History one event per page, to exercise
// NextToken; it takes exactly one lookup attribute, as CloudTrail does.
func (t trail) LookupEvents(_ context.Context, in *cloudtrail.LookupEventsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	t.f.Calls.Record("CloudTrail.LookupEvents")
	t.f.Lookups = append(t.f.Lookups, *in)
	if t.f.LookupErr != nil {
		return nil, t.f.LookupErr
	}
	if len(in.LookupAttributes) > 1 {
		return nil, fmt.Errorf("InvalidLookupAttributesException: only one lookup attribute")
	}
	if m := in.MaxResults; m != nil && (*m < 1 || *m > 50) {
		return nil, fmt.Errorf("InvalidMaxResultsException: %d", *m)
	}
	var match []cttypes.Event
	for _, e := range t.f.History {
		if in.StartTime != nil && e.EventTime.Before(*in.StartTime) || in.EndTime != nil && e.EventTime.After(*in.EndTime) {
			continue
		}
		if len(in.LookupAttributes) == 1 {
			a := in.LookupAttributes[0]
			var got string
			switch a.AttributeKey {
			case cttypes.LookupAttributeKeyEventName:
				got = aws.ToString(e.EventName)
			case cttypes.LookupAttributeKeyEventSource:
				got = aws.ToString(e.EventSource)
			default:
				return nil, fmt.Errorf("fake: lookup attribute %s", a.AttributeKey)
			}
			if got != aws.ToString(a.AttributeValue) {
				continue
			}
		}
		match = append(match, e)
	}
	out := &cloudtrail.LookupEventsOutput{}
	out.Events, out.NextToken = onePerPage(match, in.NextToken)
	return out, nil
}

// onePerPage is the page of items that token starts, one item long, and
// the token of the next page (nil after the last): the fakes answer one
// item per page so that verify's paging is exercised.
func onePerPage[T any](items []T, token *string) (page []T, next *string) {
	i := 0
	if token != nil {
		_, _ = fmt.Sscan(*token, &i) // a token the fake did not hand out reads as the first page
	}
	if i < len(items) {
		page = items[i : i+1]
	}
	if i+1 < len(items) {
		next = aws.String(fmt.Sprint(i + 1))
	} else if token != nil {
		// The last of several pages says so with an empty token, as some
		// AWS APIs do: a caller that reads on would start over.
		next = aws.String("")
	}
	return page, next
}

type rules struct{ f *Fixture }

func (e rules) DescribeRule(_ context.Context, in *eventbridge.DescribeRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error) {
	e.f.Calls.Record("EventBridge.DescribeRule")
	for _, r := range []eventbridge.DescribeRuleOutput{e.f.Rule, e.f.RotatorRule, e.f.SilencingRule} {
		if aws.ToString(in.Name) == aws.ToString(r.Name) {
			return &r, nil
		}
	}
	return nil, fmt.Errorf("ResourceNotFoundException: Rule %s does not exist", aws.ToString(in.Name))
}

// ListTargetsByRule answers one target per page, to exercise NextToken.
func (e rules) ListTargetsByRule(_ context.Context, in *eventbridge.ListTargetsByRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error) {
	e.f.Calls.Record("EventBridge.ListTargetsByRule")
	targets := e.f.Targets
	switch aws.ToString(in.Rule) {
	case RotatorRuleName:
		targets = e.f.RotatorTargets
	case SilencingRuleName:
		targets = e.f.SilencingTargets
	}
	out := &eventbridge.ListTargetsByRuleOutput{}
	out.Targets, out.NextToken = onePerPage(targets, in.NextToken)
	return out, nil
}

// TestEventPattern matches with awsfake.MatchesPattern, the part of the
// pattern language the vault's rules use.
func (e rules) TestEventPattern(_ context.Context, in *eventbridge.TestEventPatternInput, _ ...func(*eventbridge.Options)) (*eventbridge.TestEventPatternOutput, error) {
	e.f.Calls.Record("EventBridge.TestEventPattern")
	e.f.Tested = append(e.f.Tested, aws.ToString(in.Event))
	var pat, ev map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(in.EventPattern)), &pat); err != nil {
		return nil, fmt.Errorf("InvalidEventPatternException: %v", err)
	}
	if err := json.Unmarshal([]byte(aws.ToString(in.Event)), &ev); err != nil {
		return nil, fmt.Errorf("InvalidEventPatternException: event: %v", err)
	}
	for _, k := range []string{"id", "account", "source", "time", "region", "resources", "detail-type"} {
		if _, ok := ev[k]; !ok {
			return nil, fmt.Errorf("InvalidEventPatternException: event lacks %s", k)
		}
	}
	m, err := awsfake.MatchesPattern(aws.ToString(in.EventPattern), aws.ToString(in.Event))
	if err != nil {
		return nil, fmt.Errorf("fake: %w", err)
	}
	return &eventbridge.TestEventPatternOutput{Result: m}, nil
}

// AuditLine is a QUERY line of the audit log for statement, quoted as
// the audit log quotes it.
func AuditLine(statement string) string {
	return "20261207 13:38:00,ip-10-0-1-5,dbadmin,10.0.1.9,2015,8683,QUERY,vault,'" + statement + "',0"
}

// AuditGroup is the cluster's audit log group.
var AuditGroup = kit.RDSLogGroup(ClusterID, "audit")

type logs struct{ f *Fixture }

// filterTerm is one ?"phrase" term of a filter pattern.
var filterTerm = regexp.MustCompile(`\?"([^"]*)"`)

// FilterLogEvents answers the lines that hold the quoted phrase of the
// filter pattern, one per page, to exercise nextToken.
func (l logs) FilterLogEvents(_ context.Context, in *cloudwatchlogs.FilterLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	l.f.Calls.Record("Logs.FilterLogEvents")
	if aws.ToString(in.LogGroupName) != AuditGroup || l.f.AuditLog == nil {
		return nil, &cwltypes.ResourceNotFoundException{Message: aws.String("The specified log group does not exist.")}
	}
	// Quoted phrases, each after "?" (any of them matches).
	pattern := aws.ToString(in.FilterPattern)
	var phrases []string
	for _, m := range filterTerm.FindAllStringSubmatch(pattern, -1) {
		phrases = append(phrases, m[1])
	}
	if len(phrases) == 0 || strings.TrimSpace(filterTerm.ReplaceAllString(pattern, "")) != "" {
		return nil, fmt.Errorf("fake: filter pattern %q: want ?\"phrase\" terms only", pattern)
	}
	if in.StartTime == nil || in.StartFromHead == nil || *in.StartFromHead {
		return nil, fmt.Errorf("fake: want a start time and the newest events first")
	}
	var events []cwltypes.FilteredLogEvent
	for i, line := range l.f.AuditLog {
		if slices.ContainsFunc(phrases, func(p string) bool { return strings.Contains(line, p) }) {
			events = append(events, cwltypes.FilteredLogEvent{Message: aws.String(line), LogStreamName: aws.String("aurora-instance-1-dev.audit.log.0"), Timestamp: aws.Int64(int64(1765114680000 + i))})
		}
	}
	page, next := onePerPage(events, in.NextToken)
	return &cloudwatchlogs.FilterLogEventsOutput{Events: page, NextToken: next}, nil
}

type watch struct{ f *Fixture }

func (w watch) GetMetricStatistics(_ context.Context, in *cloudwatch.GetMetricStatisticsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricStatisticsOutput, error) {
	w.f.Calls.Record("CloudWatch.GetMetricStatistics")
	if aws.ToString(in.Namespace) != "AWS/Events" || aws.ToString(in.MetricName) != "FailedInvocations" ||
		len(in.Dimensions) != 1 || aws.ToString(in.Dimensions[0].Value) != RuleName {
		return &cloudwatch.GetMetricStatisticsOutput{}, nil
	}
	if in.EndTime.Sub(*in.StartTime) != 24*time.Hour {
		return nil, fmt.Errorf("fake: window %s, want 24h", in.EndTime.Sub(*in.StartTime))
	}
	out := &cloudwatch.GetMetricStatisticsOutput{Label: aws.String("FailedInvocations")}
	for _, v := range w.f.FailedInvocations {
		out.Datapoints = append(out.Datapoints, cwtypes.Datapoint{Sum: aws.Float64(v), Unit: cwtypes.StandardUnitCount})
	}
	return out, nil
}

type fn struct{ f *Fixture }

func (l fn) GetFunctionConfiguration(_ context.Context, in *lambda.GetFunctionConfigurationInput, _ ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error) {
	l.f.Calls.Record("Lambda.GetFunctionConfiguration")
	if aws.ToString(in.FunctionName) != FunctionName {
		return nil, fmt.Errorf("ResourceNotFoundException: Function not found: %s", aws.ToString(in.FunctionName))
	}
	out := l.f.Function
	return &out, nil
}

func (l fn) GetPolicy(_ context.Context, in *lambda.GetPolicyInput, _ ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error) {
	l.f.Calls.Record("Lambda.GetPolicy")
	if aws.ToString(in.FunctionName) != FunctionName {
		return nil, fmt.Errorf("ResourceNotFoundException: Function not found: %s", aws.ToString(in.FunctionName))
	}
	policy := l.f.FunctionPolicy
	if policy == NoFunctionPolicy {
		return nil, &lambdatypes.ResourceNotFoundException{Message: aws.String("The resource you requested does not exist.")}
	}
	if policy == "" {
		var arns []string
		for _, a := range l.f.Outputs["secrets"]["appSecretArns"].(map[string]any) {
			arns = append(arns, a.(string))
		}
		slices.Sort(arns)
		policy = InvokePolicy(arns...)
	}
	return &lambda.GetPolicyOutput{Policy: aws.String(policy)}, nil
}

// NoFunctionPolicy as Fixture.FunctionPolicy: the function has none, and
// GetPolicy answers ResourceNotFoundException, as Lambda does once every
// permission is removed.
const NoFunctionPolicy = "none"

// InvokePolicy is the rotator's resource-based policy as Lambda returns it
// after one AddPermission per source (the secrets layer's
// lambda.Permission): Secrets Manager of this account may invoke the
// function for that secret ARN or ARN pattern. The shape is the one
// Lambda's documentation shows for a service's permission
// (https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html).
func InvokePolicy(sources ...string) string {
	var statements []map[string]any
	for i, s := range sources {
		statements = append(statements, map[string]any{
			"Sid": fmt.Sprintf("SecretsManagerRotates-%d", i), "Effect": "Allow",
			"Principal": map[string]any{"Service": "secretsmanager.amazonaws.com"},
			"Action":    "lambda:InvokeFunction", "Resource": FunctionArn,
			"Condition": map[string]any{
				"StringEquals": map[string]any{"AWS:SourceAccount": Account},
				"ArnLike":      map[string]any{"AWS:SourceArn": s},
			},
		})
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Id": "default", "Statement": statements})
	if err != nil {
		panic(err)
	}
	return string(b)
}

type sm struct{ f *Fixture }

func (s sm) secret(id *string) (*Secret, error) {
	sec, ok := s.f.Secrets[aws.ToString(id)]
	if !ok {
		return nil, &smtypes.ResourceNotFoundException{Message: aws.String("Secrets Manager can't find the specified secret.")}
	}
	return sec, nil
}

func (s sm) DescribeSecret(_ context.Context, in *secretsmanager.DescribeSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	s.f.Calls.Record("SecretsManager.DescribeSecret")
	sec, err := s.secret(in.SecretId)
	if err != nil {
		return nil, err
	}
	out := sec.Describe
	return &out, nil
}

func (s sm) ListSecretVersionIds(_ context.Context, in *secretsmanager.ListSecretVersionIdsInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretVersionIdsOutput, error) {
	s.f.Calls.Record("SecretsManager.ListSecretVersionIds")
	sec, err := s.secret(in.SecretId)
	if err != nil {
		return nil, err
	}
	out := &secretsmanager.ListSecretVersionIdsOutput{ARN: sec.Describe.ARN, Name: sec.Describe.Name}
	for id, st := range sec.Describe.VersionIdsToStages {
		out.Versions = append(out.Versions, smtypes.SecretVersionsListEntry{VersionId: aws.String(id), VersionStages: st,
			CreatedDate: aws.Time(time.Now().Add(-time.Hour))})
	}
	return out, nil
}

func (s sm) GetResourcePolicy(_ context.Context, in *secretsmanager.GetResourcePolicyInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetResourcePolicyOutput, error) {
	s.f.Calls.Record("SecretsManager.GetResourcePolicy")
	sec, err := s.secret(in.SecretId)
	if err != nil {
		return nil, err
	}
	out := &secretsmanager.GetResourcePolicyOutput{ARN: sec.Describe.ARN, Name: sec.Describe.Name}
	if sec.Policy != "" {
		out.ResourcePolicy = aws.String(sec.Policy)
	}
	return out, nil
}

// decryptDryRun is how the fake KMS records a dry run of Decrypt.
const decryptDryRun = "Decrypt(dry run)"

type key struct{ f *Fixture }

// Decrypt answers only a dry run with IGNORE_CIPHERTEXT on the secrets key,
// with KeyAnswer: anything else could decrypt, and verify must not.
func (k key) Decrypt(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	if !aws.ToBool(in.DryRun) || !slices.Contains(in.DryRunModifiers, kmstypes.DryRunModifierTypeIgnoreCiphertext) {
		k.f.Calls.Record("KMS.Decrypt")
		return nil, fmt.Errorf("fake: Decrypt is answered only as a dry run with IGNORE_CIPHERTEXT")
	}
	k.f.Calls.Record("KMS." + decryptDryRun)
	if aws.ToString(in.KeyId) != SecretsKeyArn {
		return nil, &kmstypes.NotFoundException{Message: aws.String("Key '" + aws.ToString(in.KeyId) + "' does not exist")}
	}
	if k.f.KeyAnswer != nil {
		return nil, k.f.KeyAnswer
	}
	return nil, &kmstypes.DryRunOperationException{Message: aws.String("The request would have succeeded, but the DryRun option is set.")}
}

type db struct{ f *Fixture }

func (d db) DescribeDBClusters(_ context.Context, in *rds.DescribeDBClustersInput, _ ...func(*rds.Options)) (*rds.DescribeDBClustersOutput, error) {
	d.f.Calls.Record("RDS.DescribeDBClusters")
	if aws.ToString(in.DBClusterIdentifier) != ClusterID {
		return nil, fmt.Errorf("DBClusterNotFoundFault: DBCluster %s not found", aws.ToString(in.DBClusterIdentifier))
	}
	return &rds.DescribeDBClustersOutput{DBClusters: []rdstypes.DBCluster{d.f.Cluster}}, nil
}

func (d db) DescribeDBClusterParameters(_ context.Context, in *rds.DescribeDBClusterParametersInput, _ ...func(*rds.Options)) (*rds.DescribeDBClusterParametersOutput, error) {
	d.f.Calls.Record("RDS.DescribeDBClusterParameters")
	if aws.ToString(in.DBClusterParameterGroupName) != ParameterGroup {
		return nil, fmt.Errorf("DBParameterGroupNotFound: %s", aws.ToString(in.DBClusterParameterGroupName))
	}
	out := &rds.DescribeDBClusterParametersOutput{}
	for _, p := range d.f.Parameters {
		if in.Source == nil || aws.ToString(p.Source) == *in.Source {
			out.Parameters = append(out.Parameters, p)
		}
	}
	return out, nil
}

type bucket struct{ f *Fixture }

// GetBucketLifecycleConfiguration answers Lifecycle for the trail bucket,
// and S3's error codes otherwise.
func (b bucket) GetBucketLifecycleConfiguration(_ context.Context, in *s3.GetBucketLifecycleConfigurationInput, _ ...func(*s3.Options)) (*s3.GetBucketLifecycleConfigurationOutput, error) {
	b.f.Calls.Record("S3.GetBucketLifecycleConfiguration")
	if aws.ToString(in.Bucket) != TrailBucket {
		return nil, &smithy.GenericAPIError{Code: "NoSuchBucket", Message: "The specified bucket does not exist"}
	}
	if b.f.Lifecycle == nil {
		return nil, &smithy.GenericAPIError{Code: "NoSuchLifecycleConfiguration", Message: "The lifecycle configuration does not exist"}
	}
	return &s3.GetBucketLifecycleConfigurationOutput{Rules: b.f.Lifecycle}, nil
}

type ec2Fake struct{ f *Fixture }

func (e ec2Fake) DescribeFlowLogs(_ context.Context, in *ec2.DescribeFlowLogsInput, _ ...func(*ec2.Options)) (*ec2.DescribeFlowLogsOutput, error) {
	e.f.Calls.Record("EC2.DescribeFlowLogs")
	return &ec2.DescribeFlowLogsOutput{FlowLogs: withIDs(e.f.FlowLogs, in.FlowLogIds, func(fl ec2types.FlowLog) *string { return fl.FlowLogId })}, nil
}

func (e ec2Fake) DescribeVpcEndpoints(_ context.Context, in *ec2.DescribeVpcEndpointsInput, _ ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error) {
	e.f.Calls.Record("EC2.DescribeVpcEndpoints")
	eps := withIDs(e.f.Endpoints, in.VpcEndpointIds, func(ep ec2types.VpcEndpoint) *string { return ep.VpcEndpointId })
	if len(eps) < len(in.VpcEndpointIds) {
		return nil, notFound("InvalidVpcEndpointId.NotFound", in.VpcEndpointIds)
	}
	return &ec2.DescribeVpcEndpointsOutput{VpcEndpoints: eps}, nil
}

func (e ec2Fake) DescribeSubnets(_ context.Context, in *ec2.DescribeSubnetsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	e.f.Calls.Record("EC2.DescribeSubnets")
	subnets := withIDs(e.f.Subnets, in.SubnetIds, func(s ec2types.Subnet) *string { return s.SubnetId })
	if len(subnets) < len(in.SubnetIds) {
		return nil, notFound("InvalidSubnetID.NotFound", in.SubnetIds)
	}
	return &ec2.DescribeSubnetsOutput{Subnets: subnets}, nil
}

// withIDs are the items of all whose id is among ids, as EC2's Describe
// calls answer a list of IDs.
// notFound is EC2's answer to a Describe call that names an ID it does
// not know: an error, not an empty list
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
func notFound(code string, ids []string) error {
	return &smithy.GenericAPIError{Code: code, Message: fmt.Sprintf("The ID in %v does not exist", ids)}
}

func withIDs[T any](all []T, ids []string, id func(T) *string) []T {
	var out []T
	for _, x := range all {
		if slices.Contains(ids, aws.ToString(id(x))) {
			out = append(out, x)
		}
	}
	return out
}

// ComplianceTags are the tags the secrets layer's provider puts on every
// secret as default tags.
func ComplianceTags() []smtypes.Tag {
	return []smtypes.Tag{
		{Key: aws.String("Environment"), Value: aws.String("dev")},
		{Key: aws.String("CostCenter"), Value: aws.String("platform-security")},
		{Key: aws.String("Compliance"), Value: aws.String("soc2")},
	}
}

// endpointNames are an interface endpoint's DNS entries with private DNS:
// one per zone, its own regional name, the service's regional name.
func endpointNames(label, service string) []ec2types.DnsEntry {
	var out []ec2types.DnsEntry
	for _, n := range []string{label + "-us-east-1a." + service + ".us-east-1.vpce.amazonaws.com", label + "." + service + ".us-east-1.vpce.amazonaws.com", service + ".us-east-1.amazonaws.com"} {
		out = append(out, ec2types.DnsEntry{DnsName: aws.String(n)})
	}
	return out
}
