package database

import (
	"fmt"
	"slices"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/kit"
)

// StorageType is the cluster's storage configuration: Aurora standard
// ("aurora"), the default when CreateDBCluster is given none; the other is
// I/O-Optimized ("aurora-iopt1", Aurora MySQL 3.03.1 and later).
// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html (StorageType)
const StorageType = "aurora"

// OrderableLookup asks RDS where it offers the engine version and class,
// narrowed so that exactly one option matches. DescribeOrderableDBInstanceOptions
// lists an Aurora class once per storage type (aurora and aurora-iopt1), and
// the provider's data source fails with "multiple RDS DB Instance Classes
// ... match the criteria" when more than one option is left and no preferred
// class picks one (terraform-provider-aws
// internal/service/rds/orderable_instance_data_source.go,
// dataSourceOrderableInstanceRead: storage_type filters the options, then
// preferred_instance_classes takes the first match). Both are set: the
// storage type the cluster uses, and the class as the preferred one.
func OrderableLookup(engineVersion, instanceClass string) *rds.GetOrderableDbInstanceArgs {
	return &rds.GetOrderableDbInstanceArgs{
		Engine:                   Engine,
		EngineVersion:            pulumi.StringRef(engineVersion),
		InstanceClass:            pulumi.StringRef(instanceClass),
		StorageType:              pulumi.StringRef(StorageType),
		PreferredInstanceClasses: []string{instanceClass},
	}
}

// finalSnapshotTimeLayout is the creation time in a final snapshot's name:
// UTC, to the second, digits and one hyphen (an identifier takes letters,
// digits and single hyphens).
const finalSnapshotTimeLayout = "20060102-150405"

// FinalSnapshotName is the snapshot RDS takes when a production cluster is
// deleted: final-<suffix>-<UTC creation time, to the second>. A fixed name
// would be taken by the first environment's snapshot, so that deleting a
// rebuilt environment of the same name would fail while that snapshot is
// kept: DeleteDBCluster refuses a FinalDBSnapshotIdentifier that names an
// existing snapshot (DBClusterSnapshotAlreadyExistsFault), and the
// identifier is 1 to 255 letters, digits and hyphens, a letter first, no
// two hyphens in a row, no hyphen at the end (the name here keeps within
// 63, the limit of CreateDBClusterSnapshot's identifier)
// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBCluster.html,
// FinalDBSnapshotIdentifier and Errors). Two clusters of one environment
// are not created in the same second, so the time makes it unique; the
// longest vault name and suffix give 59 characters.
func FinalSnapshotName(names kit.Names, created time.Time) string {
	return names.Name("final") + "-" + created.UTC().Format(finalSnapshotTimeLayout)
}

// finalSnapshot names the final snapshot for every cluster, ephemeral ones
// included (which skip it): the name changes nothing in AWS until the
// cluster is deleted (terraform-provider-aws internal/service/rds/cluster.go:
// resourceClusterUpdate leaves final_snapshot_identifier out of
// ModifyDBCluster, resourceClusterDelete sends it only when
// skip_final_snapshot is false), and a cluster created ephemeral and later
// made production then already has one in its state (finalSnapshotOption).
func finalSnapshot(args *Args) pulumi.StringPtrInput {
	return pulumi.String(FinalSnapshotName(args.names, args.CreatedAt))
}

// finalSnapshotOption keeps the name the cluster was created with: the
// program offers the time of each `up`, and ignoreChanges makes the engine
// use the value in the state instead
// (https://www.pulumi.com/docs/iac/concepts/options/ignorechanges/: "Uses
// the serialized value from the stack state for any later previews or
// updates"), so the name is fixed by the cluster's creation and stable
// across `up`s. Where the state holds no value (a cluster created by an
// earlier version of this layer while ephemeral), the engine drops the
// program's value rather than use it (pulumi/pulumi
// sdk/go/common/resource/properties_path.go, PropertyPath.reset: "If the
// path doesn't exist in old then we want to delete it from new"): such a
// cluster has no name, and its destroy stops before deleting it
// (resourceClusterDelete: "final_snapshot_identifier is required when
// skip_final_snapshot is false"); docs/runbooks.md ("Retiring a production
// environment") says how to give it one.
func finalSnapshotOption() pulumi.ResourceOption {
	return pulumi.IgnoreChanges([]string{"finalSnapshotIdentifier"})
}

// engineVersionOption keeps the engine version RDS runs. RDS applies
// mandatory patches itself (even with autoMinorVersionUpgrade off), and the
// provider then reads the new version back into engineVersion:
// terraform-provider-aws internal/service/rds (compareActualEngineVersion)
// keeps the configured value only when it is a prefix of the actual one, so
// a pinned 8.0.mysql_aurora.3.10.0 against an actual 3.10.1 shows as a
// change, and `up` would ask RDS for a downgrade. The version is therefore
// ignored unless the stack's config sets applyEngineVersion: an upgrade is
// an explicit change (set engineVersion and applyEngineVersion, `up`, then
// unset applyEngineVersion).
// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Updates.Patching.html
func engineVersionOption(args *Args) pulumi.ResourceOption {
	if args.ApplyEngineVersion {
		return pulumi.IgnoreChanges(nil)
	}
	return pulumi.IgnoreChanges([]string{"engineVersion"})
}

// masterRotation sets the schedule on which RDS rotates its master secret.
// A managed secret's schedule can be changed, and its rotation needs no
// Lambda: RotateSecret without RotationLambdaARN, which pulumi-aws v6.83.4
// allows (secretsmanager.SecretRotationArgs.RotationLambdaArn is optional
// since terraform-provider-aws PR #34180, "support managed secrets";
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_managed.html).
//   - RotateImmediately false: RDS has just generated the password; the
//     change only sets the schedule (RotateSecret API reference,
//     RotateImmediately: "wait until the next scheduled rotation window").
//   - RetainOnDelete: the provider deletes this resource with
//     CancelRotateSecret (internal/service/secretsmanager/secret_rotation.go,
//     resourceSecretRotationDelete), which would switch RDS's rotation off
//     while the cluster lives on; RDS deletes the secret with the cluster.
//
// Unconfirmed offline: whether the provider reads back a RotationLambdaARN
// for a managed secret (which would show as a change on the next `up`); the
// first real deploy's second `up` must show no change to master-rotation.
func masterRotation(ctx *pulumi.Context, logical string, secretArn pulumi.StringOutput, days int, parent pulumi.ResourceOption) error {
	_, err := secretsmanager.NewSecretRotation(ctx, logical, &secretsmanager.SecretRotationArgs{
		SecretId: secretArn,
		RotationRules: &secretsmanager.SecretRotationRotationRulesArgs{
			AutomaticallyAfterDays: pulumi.Int(days),
		},
		RotateImmediately: pulumi.Bool(false),
	}, parent, pulumi.RetainOnDelete(true))
	if err != nil {
		return fmt.Errorf("master secret rotation: %w", err)
	}
	return nil
}

func param(name, value, applyMethod string) rds.ClusterParameterGroupParameterInput {
	return rds.ClusterParameterGroupParameterArgs{
		Name:        pulumi.String(name),
		Value:       pulumi.String(value),
		ApplyMethod: pulumi.String(applyMethod),
	}
}

// notOfferedFix is what to do when RDS does not offer the configured
// class and version (everywhere, or in a zone the cluster uses). The
// check runs on every preview, also of a running cluster, and RDS stops
// offering superseded patch versions to new instances.
const notOfferedFix = "choose an engineVersion and instanceClass that RDS offers there (aws rds describe-orderable-db-instance-options --engine aurora-mysql --engine-version <version> --db-instance-class <class>); if the cluster already runs, RDS may have stopped offering its version or class to new instances: set engineVersion to a version it offers (with applyEngineVersion false the running cluster keeps its own)"

// nthZone is the i-th availability zone, with an error that says why when the
// network layer offers fewer than InstanceCount, or when RDS does not offer
// the instance class there (orderable: the zones RDS offers it in; nil when
// unknown).
func nthZone(zones pulumi.StringArrayInput, orderable []string, i int) pulumi.StringOutput {
	return zones.ToStringArrayOutput().ApplyT(func(azs []string) (string, error) {
		if len(azs) < InstanceCount {
			return "", fmt.Errorf("the network layer exports %d availability zone(s); the cluster's %d instances need %d distinct ones", len(azs), InstanceCount, InstanceCount)
		}
		if orderable != nil && !slices.Contains(orderable, azs[i]) {
			return "", fmt.Errorf("RDS does not offer this instance class and engine version in %s (it does in %v): exclude that zone's ID with the network layer's excludeZoneIds, or %s", azs[i], orderable, notOfferedFix)
		}
		return azs[i], nil
	}).(pulumi.StringOutput)
}
