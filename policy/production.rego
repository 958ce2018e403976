# PRD-001..005: what a production layer (config environmentClass:
# production, see `class` in lib.rego) keeps. Their catalog entries carry
# class "production", so finding() drops them for every other layer; the
# ephemeral layers get the opposite rules (GEN-001, RDS-003, RDS-004).
package dbvault

import rego.v1

# stateful_types hold data or keys whose loss cannot be undone: the cluster
# and its instances, the keys that encrypt everything, the credentials, the
# audit trail's log files.
stateful_types := {
	"aws:rds/cluster:Cluster",
	"aws:rds/clusterInstance:ClusterInstance",
	"aws:kms/key:Key",
	"aws:secretsmanager/secret:Secret",
	"aws:s3/bucketV2:BucketV2",
	"aws:s3/bucket:Bucket",
}

findings contains finding("PRD-001", r, msg) if {
	some r in resources
	r.type in stateful_types
	not options(r).protect == true
	msg := sprintf("%s %q is not protected in a production layer, so `destroy` (or a replacement) would delete it; fix: set the resource option protect: true (kit does it when environmentClass is production)", [r.type, r.name])
}

findings contains finding("PRD-002", r, msg) if {
	some r in resources
	r.type in {"aws:rds/cluster:Cluster", "aws:rds/instance:Instance"}
	missing := [s | some s in ["deletionProtection: true", "skipFinalSnapshot: false", "finalSnapshotIdentifier"]; not kept_on_delete(r, s)]
	count(missing) > 0
	msg := sprintf("%s %q lacks %v in a production layer; fix: set deletionProtection: true, skipFinalSnapshot: false and finalSnapshotIdentifier (e.g. aurora-cluster-final-<suffix>)", [r.type, r.name, missing])
}

kept_on_delete(r, "deletionProtection: true") if prop(r, "deletionProtection") == true

# unset is the provider's default: false.
kept_on_delete(r, "skipFinalSnapshot: false") if not prop(r, "skipFinalSnapshot") == true

kept_on_delete(r, "finalSnapshotIdentifier") if present(prop(r, "finalSnapshotIdentifier"))

findings contains finding("PRD-003", r, msg) if {
	some r in secrets
	not recoverable_secret(r)
	msg := sprintf("%s %q can be deleted with a recovery window of %v day(s) in a production layer; fix: set recoveryWindowInDays to 7 or more (the vault sets 30)", [r.type, r.name, prop(r, "recoveryWindowInDays")])
}

# Unset, Secrets Manager keeps a deleted secret 30 days.
recoverable_secret(r) if prop(r, "recoveryWindowInDays") == null

recoverable_secret(r) if prop(r, "recoveryWindowInDays") >= 7

findings contains finding("PRD-003", r, msg) if {
	some r in of_type("aws:kms/key:Key")
	not prop(r, "deletionWindowInDays") == 30
	msg := sprintf("%s %q has a deletion window of %v day(s) in a production layer; fix: set deletionWindowInDays: 30, the longest KMS allows", [r.type, r.name, prop(r, "deletionWindowInDays")])
}

findings contains finding("PRD-004", r, msg) if {
	some r in log_groups
	not prop(r, "retentionInDays") >= 365
	msg := sprintf("%s %q keeps its events %v day(s) in a production layer; fix: set retentionInDays to 365 or more", [r.type, r.name, prop(r, "retentionInDays")])
}

# trail_buckets: the buckets of this layer a trail of this layer writes to.
# A layer that uses an existing trail has no trail and no bucket here.
trail_buckets contains b if {
	some t in of_type("aws:cloudtrail/trail:Trail")
	some b in buckets
	writes_to(t, b)
}

writes_to(t, b) if prop(t, "s3BucketName") == inputs(b).bucket

# At preview the trail's bucket name may be unknown; with one bucket in the
# layer, it is that one.
writes_to(t, _) if {
	count(buckets) == 1
	not known(prop(t, "s3BucketName"))
}

findings contains finding("PRD-005", b, msg) if {
	some b in trail_buckets
	missing := [s | some s in trail_bucket_settings; not kept_bucket(b, s)]
	count(missing) > 0
	msg := sprintf("%s %q, the trail's bucket in a production layer, lacks %v; fix: set forceDestroy: false and objectLockEnabled: true on it, add an aws:s3/bucketVersioningV2:BucketVersioningV2 with versioningConfiguration.status Enabled and an aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2 with rule.defaultRetention of 365 days or more", [b.type, b.name, missing])
}

trail_bucket_settings := [
	"forceDestroy not true",
	"objectLockEnabled: true",
	"versioning Enabled",
	"object lock default retention >= 365 days",
]

kept_bucket(b, "forceDestroy not true") if not prop(b, "forceDestroy") == true

kept_bucket(b, "objectLockEnabled: true") if prop(b, "objectLockEnabled") == true

kept_bucket(b, "versioning Enabled") if {
	some s in bucket_settings(b, "aws:s3/bucketVersioningV2:BucketVersioningV2")
	prop(s, "versioningConfiguration").status == "Enabled"
}

kept_bucket(b, "object lock default retention >= 365 days") if {
	some s in bucket_settings(b, "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2")
	retention_days(prop(s, "rule").defaultRetention) >= 365
}

# defaultRetention sets days or years (not both).
retention_days(r) := r.days if is_number(r.days)

retention_days(r) := r.years * 365 if is_number(r.years)
