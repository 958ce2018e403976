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

// AuditPhrase is what the audit-log check looks for: the rotator sets
// passwords with CREATE USER or ALTER USER ... IDENTIFIED BY (on MariaDB,
// SET PASSWORD ... = PASSWORD(...): AuditPasswordPhrase), and the
// cluster's audit log records DDL and DCL statements
// (server_audit_events QUERY_DCL, QUERY_DDL: "Logs all queries in plain
// text", the QUERY event those two narrow,
// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Auditing.html).
// MySQL rewrites passwords out of its general, slow and binary logs, not
// out of an audit log (https://dev.mysql.com/doc/refman/8.0/en/password-logging.html);
// whether Aurora's Advanced Auditing masks them, as MariaDB's audit
// plugin does ("IDENTIFIED BY *****"), is undocumented.
const AuditPhrase = "IDENTIFIED BY"

// AuditPasswordPhrase and AuditSetPhrase are the other statements that
// carry a password: MariaDB's PASSWORD(...), and MySQL 8's SET PASSWORD
// FOR ... = '...', the rotator's fallback there.
const (
	AuditPasswordPhrase = "PASSWORD("
	AuditSetPhrase      = "SET PASSWORD FOR"
)

// AuditFilter is the filter pattern: any of the phrases, as written
// (case-sensitive; "?" before each term matches any of them,
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html).
const AuditFilter = `?"` + AuditPhrase + `" ?"` + AuditPasswordPhrase + `" ?"` + AuditSetPhrase + `"`

// AuditLookback is how far back the check reads: the last rotation of
// every secret is within it.
const AuditLookback = MaxRotationDays * 24 * time.Hour

// AuditMaxPages bounds the read. FilterLogEvents may answer empty or
// partly full pages before the last ("Partially full or empty pages don't
// necessarily mean that pagination is finished", the SDK's
// FilterLogEvents), so a read that stops here with more to come is
// inconclusive, not a pass.
const AuditMaxPages = 20

// quotedPassword is what follows IDENTIFIED BY, PASSWORD( or SET PASSWORD
// FOR <account> = when it is a quoted string, as written or with its quotes escaped in the log line
// (MariaDB's format quotes the statement and escapes its quotes); the
// string is the submatch.
var quotedPassword = regexp.MustCompile(`(?i)(?:IDENTIFIED\s+BY|PASSWORD\s*\(|SET\s+PASSWORD\s+FOR\s+\S+\s*=)\s*\\?(['"])(.*?)\\?['"]`)

// writtenOut: the line holds a quoted password that is not masked. Audit
// plugins mask with asterisks, quoted or not (MariaDB's writes
// "IDENTIFIED BY *****", others '***'), or with a placeholder.
func writtenOut(line string) bool {
	for _, m := range quotedPassword.FindAllStringSubmatch(line, -1) {
		p := m[2]
		if strings.Trim(p, "*") != "" && p != "<secret>" {
			return true
		}
	}
	return false
}

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
		// Newest first, so that the reads that are left out, if any, are
		// the oldest (StartFromHead false needs a StartTime from 2024).
		out, err := v.Clients.Logs.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{
			LogGroupName:  aws.String(group),
			FilterPattern: aws.String(AuditFilter),
			StartTime:     aws.Int64(start.UnixMilli()),
			StartFromHead: aws.Bool(false),
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
			if writtenOut(aws.ToString(e.Message)) {
				literal = append(literal, fmt.Sprintf("%s at %s", aws.ToString(e.LogStreamName), time.UnixMilli(aws.ToInt64(e.Timestamp)).UTC().Format(time.RFC3339)))
			} else {
				masked++
			}
		}
		// An empty token ends the list too, as the SDK's paginators take it.
		if next = out.NextToken; aws.ToString(next) == "" {
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
			fmt.Sprintf("the audit log %s holds %d statement(s) whose password is written out (%s): whoever may read that log group, or download the instances' audit files, reads those passwords, whatever the secrets' policies say", group, len(literal), strings.Join(shown, ", ")),
			fmt.Sprintf("in this order: (1) stop the leak: set server_audit_excl_users to the master user in the cluster's parameter group (the rotator's statements run as the master; the database layer's next deploy puts the setting back, so report it first); "+
				"(2) deny logs:FilterLogEvents, GetLogEvents, GetLogRecord, StartQuery, StartLiveTail and CreateExportTask on %s, and rds:DownloadDBLogFilePortion and DownloadCompleteDBLogFile on the cluster's instances, to all but the administrators (an SCP), and remove any subscription filter on the group; "+
				"(3) keep a copy of the streams named for the investigation, then delete them (aws logs delete-log-stream deletes a whole stream); (4) rotate every secret twice (go run mage.go rotate, twice) and the master secret", group))
	}
	if aws.ToString(next) != "" {
		return fail(check,
			fmt.Sprintf("read %d page(s) of %s (%d statement(s) with a password, all masked) and more remain: inconclusive", pages, group, masked),
			"run verify again; if it stays inconclusive, search the group yourself: aws logs filter-log-events --log-group-name "+group+" --filter-pattern '"+AuditFilter+"'")
	}
	if seen == 0 {
		if v.Fresh {
			return Result{Check: check, OK: true, Detail: fmt.Sprintf("pending: no statement with a password (%s) in %s yet (a fresh environment; the first rotation's is minutes away): run verify again later", AuditFilter, group)}
		}
		return Result{Check: check, OK: true, Detail: fmt.Sprintf("no statement with a password (%s) in %s in the last %d days (all %d page(s) read): the rotations' password changes are not in the audit log", AuditFilter, group, days, pages)}
	}
	return Result{Check: check, OK: true, Detail: fmt.Sprintf("%d statement(s) with a password (%s) in %s in the last %d days, every password masked — confirms: the audit log does not expose the passwords the rotator sets", masked, AuditFilter, group, days)}
}
