package awsfake

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// The offline account's existing Aurora cluster, for configurations that
// issue users on a cluster the team already runs (the database layer's
// existingClusterIdentifier): Aurora MySQL 3, encrypted, in the existing
// VPC's subnets, behind one security group of the team's, with an
// RDS-managed master secret encrypted with a key of the team's. The account
// also holds a secret the team keeps the master credentials of a cluster in
// by itself (ExistingOperatorSecretArn), encrypted with the same key named by
// its alias, as DescribeSecret may report it.
const (
	ExistingClusterIdentifier  = "team-aurora"
	ExistingClusterSubnetGroup = "team-db-subnets"
	ExistingClusterDatabase    = "orders"
	ExistingClusterMaster      = "admin"
	existingKeyAlias           = "alias/team-db-secrets"
)

// ExistingClusterSecurityGroupID is the team's security group on the cluster.
func (e Env) ExistingClusterSecurityGroupID() string {
	return "sg-" + hexOf(17, "existing-cluster-sg", e.Region)
}

// ExistingClusterMasterSecretArn is the cluster's RDS-managed master secret.
func (e Env) ExistingClusterMasterSecretArn() string {
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:rds!cluster-%s-%s", e.Region, e.Account,
		uuidOf("existing-cluster", e.Region), alnum(6, "existing-cluster", e.Region))
}

// ExistingOperatorSecretArn is a secret the team keeps master credentials in
// itself (for a cluster whose master password RDS does not manage).
func (e Env) ExistingOperatorSecretArn() string {
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:team-aurora-master-%s", e.Region, e.Account, alnum(6, "operator-secret", e.Region))
}

// ExistingKeyArn is the team's KMS key that encrypts those secrets.
func (e Env) ExistingKeyArn() string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", e.Region, e.Account, uuidOf("existing-key", e.Region))
}

// clusterInvoke answers the lookups of an existing cluster, its subnet
// group, a secret and a key; ok is false for any other token.
func (e Env) clusterInvoke(token string, args resource.PropertyMap) (resource.PropertyMap, bool, error) {
	switch token {
	case "aws:rds/getCluster:getCluster":
		id := StringInput(args, "clusterIdentifier")
		if id != ExistingClusterIdentifier {
			return nil, true, fmt.Errorf("reading RDS Cluster (%s): couldn't find resource", id)
		}
		host := hexOf(12, "existing-cluster", e.Region)
		return resource.NewPropertyMapFromMap(map[string]any{
			"id":                  id,
			"clusterIdentifier":   id,
			"arn":                 fmt.Sprintf("arn:aws:rds:%s:%s:cluster:%s", e.Region, e.Account, id),
			"clusterResourceId":   "cluster-" + strings.ToUpper(hexOf(26, "existing-cluster", e.Region)),
			"engine":              "aurora-mysql",
			"engineMode":          "provisioned",
			"engineVersion":       "8.0.mysql_aurora.3.08.2",
			"databaseName":        ExistingClusterDatabase,
			"masterUsername":      ExistingClusterMaster,
			"dbSubnetGroupName":   ExistingClusterSubnetGroup,
			"endpoint":            fmt.Sprintf("%s.cluster-%s.%s.rds.amazonaws.com", id, host, e.Region),
			"readerEndpoint":      fmt.Sprintf("%s.cluster-ro-%s.%s.rds.amazonaws.com", id, host, e.Region),
			"port":                3306,
			"storageEncrypted":    true,
			"kmsKeyId":            e.ExistingKeyArn(),
			"vpcSecurityGroupIds": []any{e.ExistingClusterSecurityGroupID()},
			"masterUserSecrets": []any{map[string]any{
				"kmsKeyId":     e.ExistingKeyArn(),
				"secretArn":    e.ExistingClusterMasterSecretArn(),
				"secretStatus": "active",
			}},
		}), true, nil
	case "aws:rds/getSubnetGroup:getSubnetGroup":
		name := StringInput(args, "name")
		if name != ExistingClusterSubnetGroup {
			return nil, true, fmt.Errorf("reading RDS DB Subnet Group (%s): couldn't find resource", name)
		}
		var subnets []any
		for _, s := range e.ExistingSubnetIDs() {
			subnets = append(subnets, s)
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"id":        name,
			"name":      name,
			"arn":       fmt.Sprintf("arn:aws:rds:%s:%s:subgrp:%s", e.Region, e.Account, name),
			"vpcId":     e.ExistingVpcID(),
			"subnetIds": subnets,
			"status":    "Complete",
		}), true, nil
	case "aws:secretsmanager/getSecret:getSecret":
		a := StringInput(args, "arn")
		var key string
		switch a {
		case e.ExistingOperatorSecretArn():
			key = fmt.Sprintf("arn:aws:kms:%s:%s:%s", e.Region, e.Account, existingKeyAlias)
		case e.ExistingClusterMasterSecretArn():
			key = e.ExistingKeyArn()
		default:
			return nil, true, fmt.Errorf("reading Secrets Manager Secret (%s): couldn't find resource", a)
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": a, "arn": a, "name": a[strings.LastIndex(a, ":")+1:], "kmsKeyId": key,
		}), true, nil
	case "aws:kms/getKey:getKey":
		k := StringInput(args, "keyId")
		alias := fmt.Sprintf("arn:aws:kms:%s:%s:%s", e.Region, e.Account, existingKeyAlias)
		if k != e.ExistingKeyArn() && k != existingKeyAlias && k != alias && !strings.HasSuffix(e.ExistingKeyArn(), "/"+k) {
			return nil, true, fmt.Errorf("reading KMS Key (%s): NotFoundException", k)
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": e.ExistingKeyArn()[strings.LastIndex(e.ExistingKeyArn(), "/")+1:], "arn": e.ExistingKeyArn(),
			"keyManager": "CUSTOMER", "keyState": "Enabled", "enabled": true,
		}), true, nil
	}
	return nil, false, nil
}
