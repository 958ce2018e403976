package secrets

import "github.com/dbvault/dbvault/stacks/kit"

// AlertChangesRuleName is the EventBridge rule on API calls that would
// silence the vault's alerts before an insider acts: its rules disabled,
// deleted, rewritten, stripped of their target or given another, its alarm deleted or
// muted, its topic deleted or changed, its trail stopped or changed.
func AlertChangesRuleName(names kit.Names) string { return names.Name("alert-changes") }

// Silencing is what the alert-changes rule watches: the vault's rules
// (this one among them), its alarm, its topic and the trail its rules
// depend on, each by the names and ARNs a caller may give.
type Silencing struct {
	Rules      []string
	Alarm      string
	TopicArn   string
	TrailNames []string
}

// The calls, each logged by CloudTrail under the API's name, grouped by
// the parameter that names the resource in requestParameters, the API's
// parameter name in lowerCamel: EventBridge's name (DisableRule,
// DeleteRule, PutRule, which may rewrite the pattern) and rule
// (RemoveTargets; PutTargets, which "updates the targets if they are
// already associated with the rule", so the same target ID may be pointed
// elsewhere: https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutTargets.html); CloudWatch's alarmNames (DeleteAlarms,
// DisableAlarmActions) and alarmName (PutMetricAlarm); SNS's topicArn
// (DeleteTopic, SetTopicAttributes, RemovePermission, which may take
// EventBridge's right to publish) and subscriptionArn, which begins with
// the topic's ARN (Unsubscribe, SetSubscriptionAttributes, which may
// filter every message out); CloudTrail's name (StopLogging, DeleteTrail,
// UpdateTrail) and trailName (PutEventSelectors). That CloudTrail spells
// these parameters so is the convention its records follow, unconfirmed
// for each offline; `go run mage.go verify` (alerts-silencing) tests the
// deployed pattern with the deploy's own PutRule record.
var (
	RuleChangeEvents         = []string{"DisableRule", "DeleteRule", "PutRule"}
	TargetChangeEvents       = []string{"RemoveTargets", "PutTargets"}
	AlarmsChangeEvents       = []string{"DeleteAlarms", "DisableAlarmActions"}
	AlarmChangeEvents        = []string{"PutMetricAlarm"}
	TopicChangeEvents        = []string{"DeleteTopic", "SetTopicAttributes", "RemovePermission"}
	SubscriptionChangeEvents = []string{"Unsubscribe", "SetSubscriptionAttributes"}
	TrailChangeEvents        = []string{"StopLogging", "DeleteTrail", "UpdateTrail"}
	SelectorChangeEvents     = []string{"PutEventSelectors"}
)

// WatchedEventSources are the CloudTrail event sources of the calls the
// vault's rules match (rotation-failed, secret-changes, rotator-changes,
// alert-changes): a trail that leaves any of them out leaves a rule blind.
// The secrets layer's tests derive the sources from the patterns and
// compare.
var WatchedEventSources = []string{
	"secretsmanager.amazonaws.com", "lambda.amazonaws.com", "iam.amazonaws.com",
	"events.amazonaws.com", "monitoring.amazonaws.com", "sns.amazonaws.com", "cloudtrail.amazonaws.com",
}

// AlertChangesPattern is the alert-changes rule's event pattern for s.
//
// A call reaches EventBridge as detail-type "AWS API Call via CloudTrail"
// with its record as detail, from aws.events (events.amazonaws.com),
// aws.monitoring (monitoring.amazonaws.com), aws.sns (sns.amazonaws.com)
// and aws.cloudtrail (cloudtrail.amazonaws.com)
// (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-cloudtrail.html
// and the pages of the other services beside it). A call that disables this
// rule itself may or may not be seen by it; the other rules' are.
func AlertChangesPattern(s Silencing) (string, error) {
	// One alternative per service and parameter.
	return apiCallPattern("alert-changes",
		apiCallMatch{"events.amazonaws.com", RuleChangeEvents, "name", s.Rules},
		apiCallMatch{"events.amazonaws.com", TargetChangeEvents, "rule", s.Rules},
		apiCallMatch{"monitoring.amazonaws.com", AlarmsChangeEvents, "alarmNames", []string{s.Alarm}},
		apiCallMatch{"monitoring.amazonaws.com", AlarmChangeEvents, "alarmName", []string{s.Alarm}},
		apiCallMatch{"sns.amazonaws.com", TopicChangeEvents, "topicArn", []string{s.TopicArn}},
		apiCallMatch{"sns.amazonaws.com", SubscriptionChangeEvents, "subscriptionArn", []any{map[string]any{"prefix": s.TopicArn + ":"}}},
		apiCallMatch{"cloudtrail.amazonaws.com", TrailChangeEvents, "name", s.TrailNames},
		apiCallMatch{"cloudtrail.amazonaws.com", SelectorChangeEvents, "trailName", s.TrailNames},
	)
}
