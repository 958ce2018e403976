package verify

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/dbvault/dbvault/stacks/kit"
)

// AuditPhrase is what the audit-log check looks for: the rotator sets every
// password with CREATE USER or ALTER USER ... IDENTIFIED BY, and the
// cluster's audit log records DDL and DCL statements
// (server_audit_events QUERY_DCL, QUERY_DDL: "Logs all queries in plain
// text", the QUERY event those two narrow,
// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Auditing.html).
// MySQL rewrites passwords out of its general, slow and binary logs, not
// out of an audit log (https://dev.mysql.com/doc/refman/8.0/en/password-logging.html);
// whether Aurora's Advanced Auditing masks them, as MariaDB's audit
// plugin does ("IDENTIFIED BY *****"), is undocumented.
const AuditPhrase = "IDENTIFIED BY"

// AuditLookback is how far back the check reads: the last rotation of
// every secret is within it.
const AuditLookback = MaxRotationDays * 24 * time.Hour

// AuditMaxPages bounds the read.
const AuditMaxPages = 10

// literalPassword matches what follows IDENTIFIED BY when it is a quoted
// string, as written or with its quotes escaped in the log line (MariaDB's
// format quotes the statement and escapes its quotes), and not a run of
// asterisks.
var literalPassword = regexp.MustCompile(`(?i)IDENTIFIED\s+BY\s+\\?['"]`)

// auditLog: the cluster's audit log in CloudWatch Logs must not hold a
// password. Whoever may read that log group (logs:FilterLogEvents,
// logs:GetLogEvents, logs:StartQuery) would otherwise read every password
// the rotator set, past every secret's resource policy. The check reads
// the statements with AuditPhrase since AuditLookback and fails on any
// whose password is a literal; it prints where (stream, time), never the
// line.
//
// FilterLogEvents
// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html):
// a quoted filter pattern matches the phrase as written, case-sensitive
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html);
// events[].message, logStreamName, timestamp; nextToken pages.
func (v *Verifier) auditLog(ctx context.Context) Result {
	const check = "audit-log"
	r := v.need(check)
	id := r.str("database", "clusterIdentifier")
	existing := r.existingCluster()
	if r.bad {
		return r.out
	}
	group := kit.RDSLogGroup(id, "audit")
	start := v.now().UTC().Add(-AuditLookback)
	var literal []string
	masked, seen, pages := 0, 0, 0
	var next *string
	for pages < AuditMaxPages {
		out, err := v.Clients.Logs.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{
			LogGroupName:  aws.String(group),
			FilterPattern: aws.String(`"` + AuditPhrase + `"`),
			StartTime:     aws.Int64(start.UnixMilli()),
			NextToken:     next,
		})
		var missing *cwltypes.ResourceNotFoundException
		if errors.As(err, &missing) && existing {
			return Result{Check: check, OK: true, Detail: fmt.Sprintf("the team's cluster %s does not export its audit log to %s: no copy of its statements in CloudWatch Logs", id, group)}
		}
		if err != nil {
			return callFailed(check, "logs:FilterLogEvents", group, err, v.ifMissing("the log group", "database"))
		}
		pages++
		for _, e := range out.Events {
			seen++
			if literalPassword.MatchString(aws.ToString(e.Message)) {
				literal = append(literal, fmt.Sprintf("%s at %s", aws.ToString(e.LogStreamName), time.UnixMilli(aws.ToInt64(e.Timestamp)).UTC().Format(time.RFC3339)))
			} else {
				masked++
			}
		}
		if next = out.NextToken; next == nil {
			break
		}
	}
	days := int(AuditLookback / (24 * time.Hour))
	if len(literal) > 0 {
		shown := literal
		if len(shown) > 3 {
			shown = append(shown[:3:3], fmt.Sprintf("%d more", len(literal)-3))
		}
		return fail(check,
			fmt.Sprintf("the audit log %s holds %d statement(s) whose password is written out (%s): whoever may read that log group reads those passwords, whatever the secrets' policies say", group, len(literal), strings.Join(shown, ", ")),
			fmt.Sprintf("deny logs:FilterLogEvents, logs:GetLogEvents, logs:StartQuery and logs:GetLogRecord on %s to all but the administrators (an SCP), delete its log streams of the last %d days (aws logs delete-log-stream), then rotate every secret twice (go run mage.go rotate, twice) and the master secret; report it: the vault's promise depends on Aurora masking passwords in the audit log", group, days))
	}
	if seen == 0 {
		if v.Fresh {
			return Result{Check: check, OK: true, Detail: fmt.Sprintf("pending: no statement with %s in %s yet (a fresh environment; the first rotation's is minutes away): run verify again later", AuditPhrase, group)}
		}
		return Result{Check: check, OK: true, Detail: fmt.Sprintf("no statement with %s in %s in the last %d days (%d page(s)): the rotations' password changes are not in the audit log", AuditPhrase, group, days, pages)}
	}
	more := ""
	if next != nil {
		more = fmt.Sprintf(" (the first %d pages)", pages)
	}
	return Result{Check: check, OK: true, Detail: fmt.Sprintf("%d statement(s) with %s in %s in the last %d days%s, every password masked — confirms: the audit log does not expose the passwords the rotator sets", masked, AuditPhrase, group, days, more)}
}
