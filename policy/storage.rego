# RES-001, S3-001, S3-002, S3-003: resource policies and buckets.
package dbvault

import rego.v1

source_condition(st) if {
	some k in condition_keys(st)
	k in {"aws:sourcearn", "aws:sourceaccount"}
}

caller_condition(st) if {
	some k in condition_keys(st)
	k in {"aws:principalaccount", "aws:principalorgid", "aws:principalarn", "aws:sourcearn", "aws:sourceaccount"}
}

findings contains finding("RES-001", p.r, msg) if {
	some p in statements
	p.kind == "resource"
	allows(p.st)
	some svc in principal_services(p.st)
	not source_condition(p.st)
	msg := sprintf("%s %q admits the service %s without aws:SourceArn or aws:SourceAccount; fix: add Condition {\"ArnEquals\": {\"aws:SourceArn\": \"<the one resource that calls>\"}, \"StringEquals\": {\"aws:SourceAccount\": \"<this account id>\"}}", [p.r.type, p.r.name, svc])
}

findings contains finding("RES-001", p.r, msg) if {
	some p in statements
	p.kind == "resource"
	allows(p.st)
	principal_is_anyone(p.st)
	not caller_condition(p.st)
	msg := sprintf("%s %q allows Principal \"*\" without an account, organization or source condition; fix: name the principals or add aws:PrincipalAccount", [p.r.type, p.r.name])
}

buckets := [b | some b in resources; b.type in {"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"}]

# bucket_settings(b, t): the resources of type t that configure bucket b
# (their `bucket` input is the bucket's name).
bucket_settings(b, t) := [s | some s in of_type(t); inputs(s).bucket == inputs(b).bucket]

findings contains finding("S3-001", b, msg) if {
	some b in buckets
	not fully_blocked(b)
	msg := sprintf("%s %q has no public access block with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true; fix: add an aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock for it", [b.type, b.name])
}

fully_blocked(b) if {
	some s in bucket_settings(b, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
	every k in ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] {
		inputs(s)[k] == true
	}
}

findings contains finding("S3-002", b, msg) if {
	some b in buckets
	not kms_encrypted_bucket(b)
	msg := sprintf("%s %q does not encrypt by default with a customer KMS key; fix: add an aws:s3/bucketServerSideEncryptionConfigurationV2 with sseAlgorithm aws:kms and kmsMasterKeyId set", [b.type, b.name])
}

kms_encrypted_bucket(b) if {
	some s in bucket_settings(b, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
	some rule in inputs(s).rules
	rule.applyServerSideEncryptionByDefault.sseAlgorithm == "aws:kms"
	customer_key(object.get(rule.applyServerSideEncryptionByDefault, "kmsMasterKeyId", null))
}

# The older in-resource form on aws:s3/bucket:Bucket.
kms_encrypted_bucket(b) if {
	some rule in as_list_obj(inputs(b).serverSideEncryptionConfiguration.rule)
	rule.applyServerSideEncryptionByDefault.sseAlgorithm == "aws:kms"
	customer_key(object.get(rule.applyServerSideEncryptionByDefault, "kmsMasterKeyId", null))
}

# S3-003: a trail's bucket expires its log files, and their noncurrent
# versions, so its storage stops growing; never before the bucket's Object
# Lock default retention (S3 would only put delete markers on locked
# versions). S3 lifecycle expiration on versioned buckets:
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-expire-general-considerations.html
findings contains finding("S3-003", b, msg) if {
	some b in trail_buckets
	not expiring_bucket(b)
	msg := sprintf("%s %q, a trail's bucket, has no enabled lifecycle rule that expires log files (expiration.days, at least its Object Lock default retention of %v days) and their noncurrent versions (noncurrentVersionExpiration.noncurrentDays); fix: add an aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2 for it with such a rule (the secrets layer's trailRetentionDays)", [b.type, b.name, lock_days(b)])
}

expiring_bucket(b) if {
	some s in bucket_settings(b, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")
	some rule in inputs(s).rules
	rule.status == "Enabled"
	is_number(rule.expiration.days)
	rule.expiration.days >= lock_days(b)
	is_number(rule.noncurrentVersionExpiration.noncurrentDays)
}

# lock_days(b): the bucket's Object Lock default retention in days; 1
# without one.
lock_days(b) := max(array.concat([1], [d |
	some s in bucket_settings(b, "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2")
	d := retention_days(object.get(prop(s, "rule"), "defaultRetention", {}))
]))
