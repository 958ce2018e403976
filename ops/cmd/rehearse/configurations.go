package main

import (
	"encoding/json"
	"fmt"

	"github.com/dbvault/dbvault/ops/deploy"
	"github.com/dbvault/dbvault/ops/layers"
	"github.com/dbvault/dbvault/ops/rehearse"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
)

// configuration is one environment the rehearsal deploys, re-deploys and
// destroys.
type configuration struct {
	// name labels its scratch subdirectory and its time.
	name string
	// heading says what the environment is, after "rehearsal of ".
	heading string
	// suffix is added to ENV for the environment's stack name.
	suffix string
	// production sets environmentClass=production in every layer and
	// checks that protected are protected.
	production bool
	wiring     []rehearse.Wiring
	protected  []rehearse.Protected
	// config is the stack configuration beyond the application user
	// (nil: none); fake is the offline account in the rehearsal's region.
	config func(fake awsfake.Env) (map[string]deploy.Config, error)
}

// secretsWiring is what every environment's secrets layer takes from the
// layers before it: the secrets key, and the cluster the rotator logs in
// to (only that cluster, with its master secret).
var secretsWiring = []rehearse.Wiring{
	{Layer: "secrets", Type: "aws:secretsmanager/secret:Secret", Input: "kmsKeyId", From: "kms", Output: "secretsKeyArn"},
	// The rotator logs in only at the database layer's cluster, with its
	// master secret.
	{Layer: "secrets", Type: "aws:lambda/function:Function", Input: "environment.variables.DB_HOST", From: "database", Output: "clusterEndpoint"},
	{Layer: "secrets", Type: "aws:lambda/function:Function", Input: "environment.variables.MASTER_SECRET_ARN", From: "database", Output: "masterSecretArn"},
}

// ownWiring are the cross-layer values the rehearsal checks in the
// deployed state of a vault with its own network and cluster: each
// consuming resource carries exactly the producing layer's output,
// resolved through a StackReference on the real backend.
var ownWiring = append([]rehearse.Wiring{
	{Layer: "database", Type: "aws:rds/subnetGroup:SubnetGroup", Input: "subnetIds", From: "network", Output: "privateSubnetIds"},
	{Layer: "database", Type: "aws:rds/cluster:Cluster", Input: "kmsKeyId", From: "kms", Output: "databaseKeyArn"},
	{Layer: "database", Type: "aws:rds/cluster:Cluster", Input: "masterUserSecretKmsKeyId", From: "kms", Output: "secretsKeyArn"},
}, secretsWiring...)

// existingWiring is the same for a vault in an existing VPC serving an
// existing cluster, which has no subnet group or cluster of its own: the
// rules that admit the rotator to the team's cluster name the network
// layer's rotator group, and the flow log watches the existing VPC.
var existingWiring = append([]rehearse.Wiring{
	{Layer: "database", Type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", Input: "referencedSecurityGroupId", From: "network", Output: "rotatorSecurityGroupId"},
	{Layer: "database", Type: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", Input: "securityGroupId", From: "network", Output: "rotatorSecurityGroupId"},
	{Layer: "database", Type: "aws:ec2/flowLog:FlowLog", Input: "vpcId", From: "network", Output: "vpcId"},
}, secretsWiring...)

// protected are the resources a production environment protects: the
// cluster and its instances, the KMS keys, the application secrets and the
// trail's bucket (docs/runbooks.md, "Retiring a production environment").
var protected = []rehearse.Protected{
	{Layer: "kms", Type: "aws:kms/key:Key"},
	{Layer: "database", Type: "aws:rds/cluster:Cluster"},
	{Layer: "database", Type: "aws:rds/clusterInstance:ClusterInstance"},
	{Layer: "secrets", Type: "aws:secretsmanager/secret:Secret"},
	{Layer: "secrets", Type: "aws:s3/bucketV2:BucketV2"},
}

// configurations are rehearsed in this order.
var configurations = []configuration{
	{name: "ephemeral", heading: "an ephemeral environment", wiring: ownWiring},
	{name: "production", heading: "a production environment", suffix: "-prod", production: true, wiring: ownWiring, protected: protected,
		config: func(awsfake.Env) (map[string]deploy.Config, error) {
			cfg := map[string]deploy.Config{}
			for _, l := range layers.All {
				cfg[l.Name] = deploy.Config{l.Project + ":environmentClass": {Value: kit.Production}}
			}
			return cfg, nil
		}},
	{name: "existing", heading: "an ephemeral environment in the account's existing VPC, serving its existing Aurora cluster", suffix: "-existing", wiring: existingWiring,
		config: existingConfig},
}

// existingConfig places the vault in the offline account's existing VPC
// and private subnets (the layer then creates its interface endpoints,
// without private DNS) and serves the account's existing Aurora cluster.
func existingConfig(fake awsfake.Env) (map[string]deploy.Config, error) {
	subnets, err := json.Marshal(fake.ExistingSubnetIDs())
	if err != nil {
		return nil, fmt.Errorf("existing subnets: %w", err)
	}
	return map[string]deploy.Config{
		"network": {
			kit.NetworkProject + ":existingVpcId":     {Value: fake.ExistingVpcID()},
			kit.NetworkProject + ":existingSubnetIds": {Value: string(subnets)},
		},
		"database": {kit.DatabaseProject + ":existingClusterIdentifier": {Value: awsfake.ExistingClusterIdentifier}},
	}, nil
}

// rehearsalReader is the role that reads the rehearsal's application secret.
const rehearsalReader = "arn:aws:iam::123456789012:role/orders-api"

// options are the rehearsal options of c in environment env: its own
// configuration and, in every configuration, an application user with a
// reader role, declared as an operator would (the role is the offline
// account's), once, in the secrets layer, so that the secret's resource
// policy and the rotator's declarations carry it.
func (c configuration) options(env deploy.Environment) (rehearse.Options, error) {
	cfg := map[string]deploy.Config{}
	if c.config != nil {
		var err error
		if cfg, err = c.config(awsfake.Env{Account: awsfake.DefaultAccount, Region: env.Region}); err != nil {
			return rehearse.Options{}, err
		}
	}
	if cfg["secrets"] == nil {
		cfg["secrets"] = deploy.Config{}
	}
	cfg["secrets"][kit.SecretsProject+":appUsers"] = deploy.ConfigValue{
		Value: `[{"name": "app", "privileges": ["SELECT", "INSERT", "UPDATE", "DELETE"], "readers": ["` + rehearsalReader + `"]}]`,
	}
	return rehearse.Options{
		Layers:     layers.All,
		Env:        env,
		Wiring:     c.wiring,
		Config:     cfg,
		Production: c.production,
		Protected:  c.protected,
	}, nil
}
