// Package awsfake computes, offline and deterministically, what AWS would
// return for the resources and invokes the layers use: IDs, ARNs, endpoints.
// The SDK mocks (tests and synth) and the stand-in provider of the rehearsal
// share it, so every offline path sees the same values.
package awsfake

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Defaults for the offline account.
const (
	DefaultAccount = "123456789012"
	DefaultRegion  = "us-east-1"
)

// DeployerRole is the role the offline deployer's session assumed.
const DeployerRole = "vault-deployer"

// Env is the offline account and region.
type Env struct {
	Account string
	Region  string
	// Deployer is the IAM role or user ARN the offline deployer acts as;
	// empty means role/DeployerRole in Account (an assumed-role session of
	// it either way for a role).
	Deployer string
}

// deployer is the deployer's IAM ARN.
func (e Env) deployer() string {
	if e.Deployer != "" {
		return e.Deployer
	}
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", e.Account, DeployerRole)
}

// callerArn is what sts get-caller-identity answers for the deployer: an
// assumed-role session of its role (named by the role's name alone, as STS
// names it), or the IAM user itself.
func (e Env) callerArn() string {
	d := e.deployer()
	if _, role, ok := strings.Cut(d, ":role/"); ok {
		return fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/offline", e.Account, role[strings.LastIndex(role, "/")+1:])
	}
	return d
}

// Default returns the offline account in us-east-1.
func Default() Env { return Env{Account: DefaultAccount, Region: DefaultRegion} }

// hexOf returns n hex characters derived from the parts: stable across runs.
func hexOf(n int, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	s := hex.EncodeToString(h[:])
	for len(s) < n {
		s += s
	}
	return s[:n]
}

// alnum returns n characters of [A-Za-z] derived from the parts, like the
// six-character suffix Secrets Manager appends to secret ARNs.
func alnum(n int, parts ...string) string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	out := make([]byte, n)
	for i := range out {
		out[i] = letters[int(h[i%len(h)])%len(letters)]
	}
	return string(out)
}

func uuidOf(parts ...string) string {
	s := hexOf(32, parts...)
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// StringInput is the string property key of a resource's inputs or outputs
// ("" when absent or not a known string), looking through secrets.
func StringInput(inputs resource.PropertyMap, key string) string {
	v, ok := inputs[resource.PropertyKey(key)]
	if !ok {
		return ""
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

// physicalName is the resource's name as AWS knows it: the explicit name
// input when there is one, else Pulumi's auto-name (logical name plus a
// stable 7-character suffix).
func physicalName(name string, inputs resource.PropertyMap, keys ...string) string {
	for _, k := range keys {
		if v := StringInput(inputs, k); v != "" {
			return v
		}
	}
	return name + "-" + hexOf(7, "autoname", name)
}

// namedARNs are the types whose ID is their name and whose ARN is
// arn:aws:<service>:<region>:<account>:<prefix><name>, and nothing else
// computed.
var namedARNs = map[string]struct{ service, prefix string }{
	"aws:rds/subnetGroup:SubnetGroup":                     {"rds", "subgrp:"},
	"aws:rds/clusterParameterGroup:ClusterParameterGroup": {"rds", "cluster-pg:"},
	"aws:rds/parameterGroup:ParameterGroup":               {"rds", "pg:"},
	"aws:cloudwatch/logGroup:LogGroup":                    {"logs", "log-group:"},
	"aws:cloudwatch/metricAlarm:MetricAlarm":              {"cloudwatch", "alarm:"},
	"aws:cloudwatch/eventRule:EventRule":                  {"events", "rule/"},
}

// Resource returns the ID and the outputs (inputs plus what AWS computes) of
// a resource of type typ with logical name name.
func (e Env) Resource(typ, name string, inputs resource.PropertyMap) (string, resource.PropertyMap) {
	out := inputs.Copy()
	set := func(k string, v any) { out[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }
	seed := typ + "::" + name
	arn := func(service, rest string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, e.Region, e.Account, rest)
	}
	var id string
	switch typ {
	case "aws:ec2/vpc:Vpc":
		id = "vpc-" + hexOf(17, seed)
		set("arn", arn("ec2", "vpc/"+id))
		set("defaultSecurityGroupId", "sg-"+hexOf(17, seed, "default-sg"))
		set("mainRouteTableId", "rtb-"+hexOf(17, seed, "main-rtb"))
		set("defaultRouteTableId", "rtb-"+hexOf(17, seed, "main-rtb"))
		set("defaultNetworkAclId", "acl-"+hexOf(17, seed, "default-acl"))
		set("ownerId", e.Account)
	case "aws:ec2/subnet:Subnet":
		id = "subnet-" + hexOf(17, seed)
		set("arn", arn("ec2", "subnet/"+id))
		set("ownerId", e.Account)
	case "aws:ec2/routeTable:RouteTable":
		id = "rtb-" + hexOf(17, seed)
		set("arn", arn("ec2", "route-table/"+id))
		set("ownerId", e.Account)
	case "aws:ec2/routeTableAssociation:RouteTableAssociation":
		id = "rtbassoc-" + hexOf(17, seed)
	case "aws:ec2/securityGroup:SecurityGroup":
		id = "sg-" + hexOf(17, seed)
		set("arn", arn("ec2", "security-group/"+id))
		set("ownerId", e.Account)
	case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
		id = "sgr-" + hexOf(17, seed)
		set("arn", arn("ec2", "security-group-rule/"+id))
		set("securityGroupRuleId", id)
	case "aws:ec2/securityGroupRule:SecurityGroupRule":
		id = "sgrule-" + hexOf(10, seed)
		set("securityGroupRuleId", "sgr-"+hexOf(17, seed))
	case "aws:ec2/vpcEndpoint:VpcEndpoint":
		id = "vpce-" + hexOf(17, seed)
		set("arn", arn("ec2", "vpc-endpoint/"+id))
		service := StringInput(inputs, "serviceName")
		svc := service[strings.LastIndex(service, ".")+1:]
		set("dnsEntries", endpointDNSEntries(id+"-"+hexOf(8, seed, "dns"), svc, e.Region, inputs["privateDnsEnabled"].IsBool() && inputs["privateDnsEnabled"].BoolValue()))
		set("networkInterfaceIds", []any{"eni-" + hexOf(17, seed, "eni")})
		set("ownerId", e.Account)
		set("state", "available")
	case "aws:ec2/flowLog:FlowLog":
		id = "fl-" + hexOf(17, seed)
		set("arn", arn("ec2", "vpc-flow-log/"+id))
	case "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":
		id = "sg-" + hexOf(17, seed)
		set("arn", arn("ec2", "security-group/"+id))
	case "aws:kms/key:Key":
		id = uuidOf(seed)
		set("keyId", id)
		set("arn", arn("kms", "key/"+id))
	case "aws:kms/alias:Alias":
		id = physicalName(name, inputs, "name")
		set("arn", arn("kms", id))
		set("targetKeyArn", arn("kms", "key/"+StringInput(inputs, "targetKeyId")))
	case "aws:rds/cluster:Cluster":
		id = physicalName(name, inputs, "clusterIdentifier")
		host := hexOf(12, seed)
		set("arn", arn("rds", "cluster:"+id))
		set("clusterIdentifier", id)
		set("clusterResourceId", "cluster-"+strings.ToUpper(hexOf(26, seed, "resource")))
		set("endpoint", fmt.Sprintf("%s.cluster-%s.%s.rds.amazonaws.com", id, host, e.Region))
		set("readerEndpoint", fmt.Sprintf("%s.cluster-ro-%s.%s.rds.amazonaws.com", id, host, e.Region))
		set("hostedZoneId", "Z2R2ITUGPM61AM")
		if _, ok := inputs["port"]; !ok {
			set("port", 3306)
		}
		// With manageMasterUserPassword, RDS creates the master secret,
		// named rds!cluster-<uuid>, and reports it in masterUserSecrets.
		// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html
		if v, ok := inputs["manageMasterUserPassword"]; ok && v.IsBool() && v.BoolValue() {
			set("masterUserSecrets", []any{map[string]any{
				"kmsKeyId":     StringInput(inputs, "masterUserSecretKmsKeyId"),
				"secretArn":    arn("secretsmanager", "secret:rds!cluster-"+uuidOf(seed, "master")+"-"+alnum(6, seed, "master")),
				"secretStatus": "active",
			}})
		}
	case "aws:rds/clusterInstance:ClusterInstance":
		id = physicalName(name, inputs, "identifier")
		set("arn", arn("rds", "db:"+id))
		set("identifier", id)
		set("dbiResourceId", "db-"+strings.ToUpper(hexOf(26, seed, "resource")))
		set("endpoint", fmt.Sprintf("%s.%s.%s.rds.amazonaws.com", id, hexOf(12, seed), e.Region))
		set("port", 3306)
		set("writer", false)
	case "aws:cloudwatch/eventTarget:EventTarget":
		id = StringInput(inputs, "rule") + "-" + physicalName(name, inputs, "targetId")
	case "aws:sns/topic:Topic":
		a := arn("sns", physicalName(name, inputs, "name"))
		id = a
		set("arn", a)
		set("owner", e.Account)
	case "aws:sns/topicSubscription:TopicSubscription":
		id = StringInput(inputs, "topic") + ":" + uuidOf(seed)
		set("arn", id)
	case "aws:sns/topicPolicy:TopicPolicy":
		id = StringInput(inputs, "arn")
	case "aws:iam/role:Role":
		id = physicalName(name, inputs, "name")
		set("arn", fmt.Sprintf("arn:aws:iam::%s:role/%s", e.Account, id))
		set("uniqueId", "AROA"+strings.ToUpper(hexOf(17, seed)))
		set("name", id)
	case "aws:iam/policy:Policy":
		n := physicalName(name, inputs, "name")
		id = fmt.Sprintf("arn:aws:iam::%s:policy/%s", e.Account, n)
		set("arn", id)
		set("policyId", "ANPA"+strings.ToUpper(hexOf(17, seed)))
	case "aws:iam/rolePolicy:RolePolicy":
		id = StringInput(inputs, "role") + ":" + physicalName(name, inputs, "name")
	case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
		id = StringInput(inputs, "role") + "-" + hexOf(8, seed)
	case "aws:lambda/function:Function":
		n := physicalName(name, inputs, "name")
		id = n
		fn := arn("lambda", "function:"+n)
		set("arn", fn)
		set("qualifiedArn", fn+":$LATEST")
		set("invokeArn", fmt.Sprintf("arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", e.Region, fn))
		set("version", "$LATEST")
		set("lastModified", "2026-01-01T00:00:00.000+0000")
		set("sourceCodeSize", 0)
	case "aws:lambda/layerVersion:LayerVersion":
		// A layer version's ARN ends in its version number, which Lambda
		// counts up from 1 per layer name.
		n := physicalName(name, inputs, "layerName")
		set("layerArn", arn("lambda", "layer:"+n))
		set("version", "1")
		id = arn("lambda", "layer:"+n+":1")
		set("arn", id)
	case "aws:lambda/permission:Permission":
		id = physicalName(name, inputs, "statementId")
	case "aws:secretsmanager/secret:Secret":
		n := physicalName(name, inputs, "name")
		id = arn("secretsmanager", "secret:"+n+"-"+alnum(6, seed))
		set("arn", id)
	case "aws:secretsmanager/secretVersion:SecretVersion":
		v := uuidOf(seed, "version")
		id = StringInput(inputs, "secretId") + "|" + v
		set("versionId", v)
		set("arn", StringInput(inputs, "secretId"))
	case "aws:secretsmanager/secretRotation:SecretRotation":
		id = StringInput(inputs, "secretId")
	case "aws:secretsmanager/secretPolicy:SecretPolicy":
		id = StringInput(inputs, "secretArn")
	case "aws:cloudtrail/trail:Trail":
		n := physicalName(name, inputs, "name")
		id = arn("cloudtrail", "trail/"+n)
		set("arn", id)
		set("homeRegion", e.Region)
	case "aws:s3/bucketV2:BucketV2", "aws:s3/bucket:Bucket":
		id = physicalName(name, inputs, "bucket")
		set("arn", "arn:aws:s3:::"+id)
		set("bucket", id)
		set("bucketDomainName", id+".s3.amazonaws.com")
	default:
		// The types in namedARNs, and any type this switch does not model,
		// which still gets a stable ID and ARN so that a new resource in a
		// layer never breaks synth (add a case when a layer consumes one of
		// its computed outputs).
		id = physicalName(name, inputs, "name")
		n, ok := namedARNs[typ]
		if !ok {
			n.service = strings.SplitN(strings.TrimPrefix(typ, "aws:"), "/", 2)[0]
		}
		set("arn", arn(n.service, n.prefix+id))
	}
	if _, ok := out["id"]; !ok {
		out["id"] = resource.NewProperty(id)
	}
	return id, out
}

// zoneNames are the offline region's six zones, a to f.
func (e Env) zoneNames() []any {
	var names []any
	for _, l := range "abcdef" {
		names = append(names, e.Region+string(l))
	}
	return names
}

// The offline account's existing network, for configurations that bring
// their own (the network layer's existingVpcId): a VPC with DNS support and
// hostnames on, three private subnets in the region's zones a to c, each on
// a route table with only the local route, and Secrets Manager and KMS
// interface endpoints with private DNS.
const (
	ExistingVpcCidr = "10.60.0.0/16"
	existingZones   = 3
)

// ExistingVpcID is the existing network's VPC.
func (e Env) ExistingVpcID() string { return "vpc-" + hexOf(17, "existing-vpc", e.Region) }

// ExistingSubnetIDs are its private subnets, one per zone a to c.
func (e Env) ExistingSubnetIDs() []string {
	var out []string
	for i := range existingZones {
		out = append(out, "subnet-"+hexOf(17, "existing-subnet", e.Region, fmt.Sprint(i)))
	}
	return out
}

// ExistingEndpointID is its interface endpoint for service (secretsmanager
// or kms).
func (e Env) ExistingEndpointID(service string) string {
	return "vpce-" + hexOf(17, "existing-endpoint", e.Region, service)
}

func (e Env) existingSubnet(id string) (int, bool) {
	for i, s := range e.ExistingSubnetIDs() {
		if s == id {
			return i, true
		}
	}
	return 0, false
}

// notFound is the provider's answer to a data source that matches nothing.
func notFound(what string) error {
	return fmt.Errorf("no matching %s found", what)
}

// Invoke answers the provider functions the layers call. An invoke it does
// not model is an error that names it: no silent empty result.
func (e Env) Invoke(token string, args resource.PropertyMap) (resource.PropertyMap, error) {
	if out, ok, err := e.clusterInvoke(token, args); ok {
		return out, err
	}
	switch token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": e.Account,
			"arn":       e.callerArn(),
			"id":        e.Account,
			"userId":    "AIDA" + strings.ToUpper(hexOf(17, e.Account)),
		}), nil
	case "aws:iam/getSessionContext:getSessionContext":
		// An assumed-role session names its role as the issuer; any other
		// ARN is its own issuer (what the provider's data source returns).
		a := StringInput(args, "arn")
		issuer, name, session := a, a[strings.LastIndex(a, "/")+1:], ""
		if rest, ok := strings.CutPrefix(a, fmt.Sprintf("arn:aws:sts::%s:assumed-role/", e.Account)); ok {
			parts := strings.SplitN(rest, "/", 2)
			name, issuer = parts[0], fmt.Sprintf("arn:aws:iam::%s:role/%s", e.Account, parts[0])
			if a == e.callerArn() {
				issuer = e.deployer() // with its path, as IAM keeps it
			}
			if len(parts) == 2 {
				session = parts[1]
			}
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"arn":         a,
			"id":          a,
			"issuerArn":   issuer,
			"issuerId":    "AROA" + strings.ToUpper(hexOf(17, issuer)),
			"issuerName":  name,
			"sessionName": session,
		}), nil
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{
			"name":        e.Region,
			"id":          e.Region,
			"region":      e.Region,
			"endpoint":    "ec2." + e.Region + ".amazonaws.com",
			"description": e.Region,
		}), nil
	case "aws:index/getPartition:getPartition":
		return resource.NewPropertyMapFromMap(map[string]any{
			"partition":        "aws",
			"id":               "aws",
			"dnsSuffix":        "amazonaws.com",
			"reverseDnsPrefix": "com.amazonaws",
		}), nil
	case "aws:ec2/getVpcEndpointService:getVpcEndpointService":
		// Offered in every zone of the region offline; a test that needs
		// fewer overrides the invoke.
		svc := StringInput(args, "serviceName")
		return resource.NewPropertyMapFromMap(map[string]any{
			"id":                svc,
			"serviceName":       svc,
			"serviceType":       "Interface",
			"availabilityZones": e.zoneNames(),
			"serviceId":         "vpce-svc-" + hexOf(17, svc),
		}), nil
	case "aws:rds/getOrderableDbInstance:getOrderableDbInstance":
		return e.orderable(args)
	case "aws:ec2/getVpc:getVpc":
		if id := StringInput(args, "id"); id != e.ExistingVpcID() {
			return nil, notFound("EC2 VPC " + id)
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"id":                 e.ExistingVpcID(),
			"arn":                fmt.Sprintf("arn:aws:ec2:%s:%s:vpc/%s", e.Region, e.Account, e.ExistingVpcID()),
			"cidrBlock":          ExistingVpcCidr,
			"enableDnsSupport":   true,
			"enableDnsHostnames": true,
			"ownerId":            e.Account,
			"state":              "available",
		}), nil
	case "aws:ec2/getSubnet:getSubnet":
		id := StringInput(args, "id")
		i, ok := e.existingSubnet(id)
		if !ok {
			return nil, notFound("EC2 Subnet " + id)
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"id":                  id,
			"arn":                 fmt.Sprintf("arn:aws:ec2:%s:%s:subnet/%s", e.Region, e.Account, id),
			"vpcId":               e.ExistingVpcID(),
			"cidrBlock":           fmt.Sprintf("10.60.%d.0/20", i*16),
			"availabilityZone":    e.Region + "abc"[i:i+1],
			"availabilityZoneId":  fmt.Sprintf("use1-az%d", i+1),
			"mapPublicIpOnLaunch": false,
			"state":               "available",
		}), nil
	case "aws:ec2/getRouteTable:getRouteTable":
		// Each existing subnet's own table, with only the local route (which
		// the data source does not list among routes).
		subnet := StringInput(args, "subnetId")
		if _, ok := e.existingSubnet(subnet); !ok && StringInput(args, "vpcId") != e.ExistingVpcID() {
			return nil, notFound("Route Table")
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"id":           "rtb-" + hexOf(17, "existing-rtb", e.Region, subnet),
			"routeTableId": "rtb-" + hexOf(17, "existing-rtb", e.Region, subnet),
			"vpcId":        e.ExistingVpcID(),
			"subnetId":     subnet,
			"routes":       []any{},
			"ownerId":      e.Account,
		}), nil
	case "aws:ec2/getVpcEndpoint:getVpcEndpoint":
		id := StringInput(args, "id")
		for _, svc := range []string{"secretsmanager", "kms"} {
			if id != e.ExistingEndpointID(svc) {
				continue
			}
			return resource.NewPropertyMapFromMap(map[string]any{
				"id":                id,
				"arn":               fmt.Sprintf("arn:aws:ec2:%s:%s:vpc-endpoint/%s", e.Region, e.Account, id),
				"vpcId":             e.ExistingVpcID(),
				"serviceName":       fmt.Sprintf("com.amazonaws.%s.%s", e.Region, svc),
				"vpcEndpointType":   "Interface",
				"privateDnsEnabled": true,
				"state":             "available",
				"subnetIds":         []any{e.ExistingSubnetIDs()[0], e.ExistingSubnetIDs()[1], e.ExistingSubnetIDs()[2]},
				"dnsEntries":        endpointDNSEntries(id+"-"+hexOf(8, id, "dns"), svc, e.Region, true),
				"ownerId":           e.Account,
			}), nil
		}
		return nil, notFound("VPC Endpoint " + id)
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		names, ids := []any{}, []any{}
		for i, l := range "abcdef" {
			names = append(names, e.Region+string(l))
			ids = append(ids, fmt.Sprintf("use1-az%d", i+1))
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"id":         e.Region,
			"names":      names,
			"zoneIds":    ids,
			"groupNames": []any{e.Region},
		}), nil
	}
	return nil, fmt.Errorf("awsfake: invoke %s is not modelled; add it to stacks/kit/awsfake", token)
}

// orderable answers the orderable-instance lookup the way the provider's
// data source does (terraform-provider-aws
// internal/service/rds/orderable_instance_data_source.go,
// dataSourceOrderableInstanceRead), over what RDS lists for an Aurora class:
// one option per storage type, standard ("aurora") and I/O-Optimized
// ("aurora-iopt1"). storageType filters the options; the first
// preferredInstanceClasses entry that matches picks one; otherwise more than
// one option left is the data source's error.
func (e Env) orderable(args resource.PropertyMap) (resource.PropertyMap, error) {
	class := StringInput(args, "instanceClass")
	var options []string
	for _, storage := range []string{"aurora", "aurora-iopt1"} {
		if want := StringInput(args, "storageType"); want != "" && want != storage {
			continue
		}
		options = append(options, storage)
	}
	preferred := false
	if v, ok := args["preferredInstanceClasses"]; ok && v.IsArray() {
		for _, p := range v.ArrayValue() {
			if p.IsString() && p.StringValue() == class {
				preferred = true
				break
			}
		}
	}
	if len(options) == 0 {
		return nil, fmt.Errorf("no RDS Orderable DB Instance Options found matching criteria; try different search")
	}
	if len(options) > 1 && !preferred {
		return nil, fmt.Errorf("multiple RDS DB Instance Classes (%d: %s %s with storage %s) match the criteria; try a different search",
			len(options), StringInput(args, "engine"), class, strings.Join(options, ", "))
	}
	return resource.NewPropertyMapFromMap(map[string]any{
		"id":                class,
		"engine":            StringInput(args, "engine"),
		"engineVersion":     StringInput(args, "engineVersion"),
		"instanceClass":     class,
		"storageType":       options[0],
		"availabilityZones": e.zoneNames(),
		"multiAzCapable":    true,
	}), nil
}

// endpointDNSEntries are an interface endpoint's DNS names as AWS describes
// them: one per zone (vpce-<id>-<zone>.<service>.<region>.vpce.amazonaws.com),
// the endpoint's regional name (the same without the zone) and, with
// private DNS, the service's own regional name
// (https://docs.aws.amazon.com/neptune-analytics/latest/userguide/gettingStarted-connecting-private-link-access.html
// shows the two endpoint-specific forms). AWS does not document their
// order; the zonal names come first here, so that code which takes the
// first entry for the regional name fails its tests.
func endpointDNSEntries(label, svc, region string, privateDNS bool) []any {
	var out []any
	add := func(name string) {
		out = append(out, map[string]any{"dnsName": name, "hostedZoneId": "Z7HUB22UULQXV"})
	}
	for _, zone := range []string{"a", "b"} {
		add(fmt.Sprintf("%s-%s%s.%s.%s.vpce.amazonaws.com", label, region, zone, svc, region))
	}
	add(fmt.Sprintf("%s.%s.%s.vpce.amazonaws.com", label, svc, region))
	if privateDNS {
		add(fmt.Sprintf("%s.%s.amazonaws.com", svc, region))
	}
	return out
}
