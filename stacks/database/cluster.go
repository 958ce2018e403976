package database

import (
	"fmt"
	"slices"

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

// FinalSnapshotName is the snapshot RDS takes when a production cluster is
// deleted. It is named from the environment alone, not from the date: the
// identifier is an input of the cluster, so a date in it would change, and
// show as a change, on every `up`; RDS adds the snapshot's creation time.
func FinalSnapshotName(names kit.Names) string { return names.Name("aurora-cluster-final") }

func finalSnapshot(args *Args) pulumi.StringPtrInput {
	if !args.Production {
		return nil
	}
	return pulumi.String(FinalSnapshotName(args.names))
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
			return "", fmt.Errorf("RDS does not offer this instance class and engine version in %s (it does in %v): exclude that zone's ID with the network layer's excludeZoneIds, or choose another instanceClass", azs[i], orderable)
		}
		return azs[i], nil
	}).(pulumi.StringOutput)
}
