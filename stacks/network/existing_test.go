package network_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
	"github.com/dbvault/dbvault/stacks/kit/kittest"
	"github.com/dbvault/dbvault/stacks/kit/mock"
	"github.com/dbvault/dbvault/stacks/network"
)

const tSGAssoc = "aws:ec2/securityGroupAssociation:SecurityGroupAssociation"

var fake = awsfake.Default()

// existingConfig places the vault in the offline account's existing
// network; endpoints also names its existing endpoints.
func existingConfig(endpoints bool) map[string]string {
	subnets, _ := json.Marshal(fake.ExistingSubnetIDs())
	cfg := map[string]string{
		"vault-network:existingVpcId":     fake.ExistingVpcID(),
		"vault-network:existingSubnetIds": string(subnets),
	}
	if endpoints {
		cfg["vault-network:existingSecretsManagerEndpointId"] = fake.ExistingEndpointID("secretsmanager")
		cfg["vault-network:existingKmsEndpointId"] = fake.ExistingEndpointID("kms")
	}
	return cfg
}

// runInvokes runs the layer with some invokes answered otherwise.
func runInvokes(extra map[string]string, invokes map[string]func(resource.PropertyMap) (resource.PropertyMap, error)) (mock.Result, error) {
	return mock.Run(network.Layer, mock.RunOptions{Stack: "dev", Config: kittest.Config(kit.NetworkProject, extra), Invokes: invokes})
}

// changed answers token as awsfake does, then lets edit change the answer.
func changed(token string, edit func(args, out resource.PropertyMap)) map[string]func(resource.PropertyMap) (resource.PropertyMap, error) {
	return map[string]func(resource.PropertyMap) (resource.PropertyMap, error){
		token: func(args resource.PropertyMap) (resource.PropertyMap, error) {
			out, err := fake.Invoke(token, args)
			if err == nil {
				edit(args, out)
			}
			return out, err
		},
	}
}

// routeTo answers every subnet's route table with one route: destination
// block (its key and value) to a target (its key and id).
func routeTo(blockKey, block, targetKey, target string) map[string]func(resource.PropertyMap) (resource.PropertyMap, error) {
	return changed("aws:ec2/getRouteTable:getRouteTable", func(_, out resource.PropertyMap) {
		out["routes"] = resource.NewProperty([]resource.PropertyValue{resource.NewProperty(resource.PropertyMap{
			resource.PropertyKey(blockKey):  resource.NewProperty(block),
			resource.PropertyKey(targetKey): resource.NewProperty(target),
		})})
	})
}

func TestExistingNetworkCreatesOnlyTheSecurityGroups(t *testing.T) {
	res := run(t, existingConfig(true))
	for _, typ := range []string{tVpc, tSubnet, tRouteTable, tRTAssoc, tDefaultSG, tEndpoint} {
		if n := len(res.ByType(typ)); n != 0 {
			t.Errorf("%d of %s with an existing network, want none", n, typ)
		}
	}
	groups := res.ByType(tSG)
	if len(groups) != 3 {
		t.Fatalf("%d security groups, want 3", len(groups))
	}
	var endpointsSG string
	for _, g := range groups {
		if str(g, "vpcId") != fake.ExistingVpcID() {
			t.Errorf("%s in %q, want the existing VPC", g.Name, str(g, "vpcId"))
		}
		if g.Name == "endpoints-sg" {
			endpointsSG = id(g)
		}
	}
	if len(res.ByType(tIngress)) == 0 || len(res.ByType(tEgress)) == 0 {
		t.Error("the rules between the groups are missing")
	}
	// The existing endpoints admit the rotator through the vault's
	// endpoints group, added beside their own groups.
	assocs := res.ByType(tSGAssoc)
	var endpoints []string
	for _, a := range assocs {
		endpoints = append(endpoints, str(a, "vpcEndpointId"))
		if str(a, "securityGroupId") != endpointsSG {
			t.Errorf("%s associates %q, want the endpoints group %s", a.Name, str(a, "securityGroupId"), endpointsSG)
		}
		if a.Input("replaceDefaultAssociation") != false {
			t.Errorf("%s would replace the endpoint's own groups", a.Name)
		}
	}
	slices.Sort(endpoints)
	want := []string{fake.ExistingEndpointID("kms"), fake.ExistingEndpointID("secretsmanager")}
	slices.Sort(want)
	if !slices.Equal(endpoints, want) {
		t.Errorf("associations with %v, want %v", endpoints, want)
	}

	out := func(k string) any { return res.Outputs[k].Value }
	for k, v := range map[string]any{
		"vpcId":                    fake.ExistingVpcID(),
		"vpcCidr":                  awsfake.ExistingVpcCidr,
		"secretsManagerEndpointId": fake.ExistingEndpointID("secretsmanager"),
		"kmsEndpointId":            fake.ExistingEndpointID("kms"),
		"endpointSecurityGroupId":  endpointsSG,
		// The existing endpoints have private DNS (checked at preview):
		// clients use the regional names.
		"secretsManagerEndpointUrl": "https://secretsmanager.us-east-1.amazonaws.com",
		"kmsEndpointUrl":            "https://kms.us-east-1.amazonaws.com",
	} {
		if out(k) != v {
			t.Errorf("output %s = %v, want %v", k, out(k), v)
		}
	}
	if dns, _ := out("secretsManagerEndpointDns").(string); !strings.HasPrefix(dns, fake.ExistingEndpointID("secretsmanager")) {
		t.Errorf("secretsManagerEndpointDns = %q, want the existing endpoint's", dns)
	}
	b, _ := json.Marshal(out("privateSubnetIds"))
	if w, _ := json.Marshal(fake.ExistingSubnetIDs()); string(b) != string(w) {
		t.Errorf("privateSubnetIds = %s, want %s", b, w)
	}
	b, _ = json.Marshal(out("availabilityZones"))
	if string(b) != `["us-east-1a","us-east-1b","us-east-1c"]` {
		t.Errorf("availabilityZones = %s", b)
	}
	// The same outputs as a network of its own, for the later layers.
	own := run(t, nil)
	for k := range own.Outputs {
		if _, ok := res.Outputs[k]; !ok {
			t.Errorf("output %s missing with an existing network", k)
		}
	}
}

// Without existing endpoints, the layer creates them in the existing
// subnets, and associates nothing. By default they have no private DNS, so
// the VPC's other workloads keep reaching Secrets Manager and KMS as before,
// and the outputs give the endpoints' own names for the vault's clients.
func TestExistingNetworkGetsTheEndpointsItLacks(t *testing.T) {
	res := run(t, existingConfig(false))
	for _, e := range endpoints(t, res, false, "in a VPC the vault does not own") {
		if str(e, "vpcId") != fake.ExistingVpcID() || !slices.Equal(strs(e, "subnetIds"), fake.ExistingSubnetIDs()) {
			t.Errorf("%s: in %s %v, want the existing VPC and subnets", e.Name, str(e, "vpcId"), strs(e, "subnetIds"))
		}
		svc := str(e, "serviceName")[strings.LastIndex(str(e, "serviceName"), ".")+1:]
		out := map[string]string{"secretsmanager": "secretsManagerEndpointUrl", "kms": "kmsEndpointUrl"}[svc]
		// The endpoint's own regional name: one of its DNS names, and not
		// one of a zone (those come first in the fake's entries).
		got, _ := res.Outputs[out].Value.(string)
		var names []string
		for _, d := range e.Outputs["dnsEntries"].ArrayValue() {
			names = append(names, d.ObjectValue()["dnsName"].StringValue())
		}
		host := strings.TrimPrefix(got, "https://")
		if !slices.Contains(names, host) || !strings.HasPrefix(host, "vpce-") || strings.Contains(host, "-us-east-1a.") || strings.Contains(host, "-us-east-1b.") {
			t.Errorf("%s = %q, want https:// and the endpoint's own regional name among %v", out, got, names)
		}
	}
	if n := len(res.ByType(tSGAssoc)); n != 0 {
		t.Errorf("%d associations, want none", n)
	}
}

// endpointPrivateDns: true is the operator's explicit choice to give the
// created endpoints private DNS; the URLs are then the regional names.
func TestExistingNetworkPrivateDNSOnlyWhenAsked(t *testing.T) {
	res := run(t, mergeCfg(existingConfig(false), "vault-network:endpointPrivateDns", "true"))
	endpoints(t, res, true, "endpointPrivateDns is true")
	for out, want := range map[string]string{"secretsManagerEndpointUrl": "https://secretsmanager.us-east-1.amazonaws.com", "kmsEndpointUrl": "https://kms.us-east-1.amazonaws.com"} {
		if got := res.Outputs[out].Value; got != want {
			t.Errorf("%s = %v, want %s", out, got, want)
		}
	}
}

// With one existing endpoint named, the layer uses it and creates only the
// other, without private DNS.
func TestExistingNetworkMixesNamedAndCreatedEndpoints(t *testing.T) {
	res := run(t, mergeCfg(existingConfig(false), "vault-network:existingSecretsManagerEndpointId", fake.ExistingEndpointID("secretsmanager")))
	eps := res.ByType(tEndpoint)
	if len(eps) != 1 || !strings.HasSuffix(str(eps[0], "serviceName"), ".kms") || eps[0].Input("privateDnsEnabled") != false {
		t.Fatalf("endpoints %v, want one KMS endpoint without private DNS", eps)
	}
	if got := res.Outputs["secretsManagerEndpointUrl"].Value; got != "https://secretsmanager.us-east-1.amazonaws.com" {
		t.Errorf("secretsManagerEndpointUrl = %v, want the regional name (the existing endpoint has private DNS)", got)
	}
	if got, _ := res.Outputs["kmsEndpointUrl"].Value.(string); !strings.HasPrefix(got, "https://vpce-") {
		t.Errorf("kmsEndpointUrl = %q, want the created endpoint's own name", got)
	}
}

// A named endpoint without private DNS is used as it is: the vault's
// clients call it by its own name.
func TestExistingEndpointWithoutPrivateDNSIsCalledByItsName(t *testing.T) {
	res, err := runInvokes(existingConfig(true), changed("aws:ec2/getVpcEndpoint:getVpcEndpoint", func(args, out resource.PropertyMap) {
		if args["id"].StringValue() == fake.ExistingEndpointID("secretsmanager") {
			out["privateDnsEnabled"] = resource.NewProperty(false)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	dns, _ := res.Outputs["secretsManagerEndpointDns"].Value.(string)
	if got := res.Outputs["secretsManagerEndpointUrl"].Value; dns == "" || got != "https://"+dns {
		t.Errorf("secretsManagerEndpointUrl = %v, want https://%s (the endpoint's own name)", got, dns)
	}
	if got := res.Outputs["kmsEndpointUrl"].Value; got != "https://kms.us-east-1.amazonaws.com" {
		t.Errorf("kmsEndpointUrl = %v, want the regional name (private DNS on)", got)
	}
	if n := len(res.ByType(tEndpoint)); n != 0 {
		t.Errorf("%d endpoints created, want none", n)
	}
}

func TestExistingNetworkIsCheckedAtPreview(t *testing.T) {
	other := "vpc-0123456789abcdef0"
	for name, c := range map[string]struct {
		cfg     map[string]string
		invokes map[string]func(resource.PropertyMap) (resource.PropertyMap, error)
		want    string
	}{
		"unknown VPC": {
			cfg:  map[string]string{"vault-network:existingVpcId": other},
			want: "existingVpcId " + other,
		},
		"VPC without DNS hostnames": {
			invokes: changed("aws:ec2/getVpc:getVpc", func(_, out resource.PropertyMap) { out["enableDnsHostnames"] = resource.NewProperty(false) }),
			want:    "DNS hostnames must both be on",
		},
		"subnet in another VPC": {
			invokes: changed("aws:ec2/getSubnet:getSubnet", func(args, out resource.PropertyMap) {
				if args["id"].StringValue() == fake.ExistingSubnetIDs()[1] {
					out["vpcId"] = resource.NewProperty(other)
				}
			}),
			want: "is in " + other + ", not in existingVpcId",
		},
		"subnets in one zone": {
			invokes: changed("aws:ec2/getSubnet:getSubnet", func(_, out resource.PropertyMap) {
				out["availabilityZone"] = resource.NewProperty("us-east-1a")
				out["availabilityZoneId"] = resource.NewProperty("use1-az1")
			}),
			want: "in 1 zone(s) (use1-az1)",
		},
		"two subnets in one zone": {
			invokes: changed("aws:ec2/getSubnet:getSubnet", func(args, out resource.PropertyMap) {
				if args["id"].StringValue() == fake.ExistingSubnetIDs()[2] {
					out["availabilityZone"] = resource.NewProperty("us-east-1a")
					out["availabilityZoneId"] = resource.NewProperty("use1-az1")
				}
			}),
			want: "existingSubnetIds[2] " + fake.ExistingSubnetIDs()[2] + " is in zone use1-az1, as existingSubnetIds[0] " + fake.ExistingSubnetIDs()[0] + " is: name one private subnet per zone",
		},
		"public subnet": {
			invokes: changed("aws:ec2/getSubnet:getSubnet", func(_, out resource.PropertyMap) { out["mapPublicIpOnLaunch"] = resource.NewProperty(true) }),
			want:    "gives public IP addresses",
		},
		"route to an internet gateway": {
			invokes: routeTo("cidrBlock", "0.0.0.0/0", "gatewayId", "igw-0123456789abcdef0"),
			want:    "to internet gateway igw-0123456789abcdef0",
		},
		"route to a NAT gateway": {
			invokes: routeTo("cidrBlock", "0.0.0.0/0", "natGatewayId", "nat-0123456789abcdef0"),
			want:    "routes 0.0.0.0/0 to NAT gateway nat-0123456789abcdef0",
		},
		"route to an egress-only internet gateway": {
			invokes: routeTo("ipv6CidrBlock", "::/0", "egressOnlyGatewayId", "eigw-0123456789abcdef0"),
			want:    "routes ::/0 to egress-only internet gateway eigw-0123456789abcdef0",
		},
		"subnet on the main route table, which routes to the internet": {
			invokes: map[string]func(resource.PropertyMap) (resource.PropertyMap, error){
				"aws:ec2/getRouteTable:getRouteTable": func(args resource.PropertyMap) (resource.PropertyMap, error) {
					if args.HasValue("subnetId") {
						return nil, awsfakeNotFound()
					}
					return resource.NewPropertyMapFromMap(map[string]any{"routeTableId": "rtb-main", "routes": []any{map[string]any{"cidrBlock": "0.0.0.0/0", "gatewayId": "igw-0abc"}}}), nil
				},
			},
			want: "route table rtb-main routes 0.0.0.0/0 to internet gateway igw-0abc",
		},
		"endpoint of another service": {
			cfg:  map[string]string{"vault-network:existingKmsEndpointId": fake.ExistingEndpointID("secretsmanager")},
			want: "is an endpoint of com.amazonaws.us-east-1.secretsmanager, not com.amazonaws.us-east-1.kms",
		},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := existingConfig(true)
			for k, v := range c.cfg {
				cfg[k] = v
			}
			_, err := runInvokes(cfg, c.invokes)
			kittest.Refused(t, err, c.want)
		})
	}
}

// A route to a transit gateway is private connectivity the team chose,
// not a path to the internet: the subnet is taken.
func TestExistingSubnetRoutedToATransitGatewayIsTaken(t *testing.T) {
	_, err := runInvokes(existingConfig(true), routeTo("cidrBlock", "10.0.0.0/8", "transitGatewayId", "tgw-0123456789abcdef0"))
	if err != nil {
		t.Fatal(err)
	}
}

func awsfakeNotFound() error {
	_, err := fake.Invoke("aws:ec2/getRouteTable:getRouteTable", resource.PropertyMap{})
	return err
}

func TestExistingNetworkConfigIsRefusedClearly(t *testing.T) {
	for name, c := range map[string]struct {
		cfg  map[string]string
		want string
	}{
		"subnets without a VPC":               {map[string]string{"vault-network:existingSubnetIds": `["subnet-0123456789abcdef0"]`}, "need existingVpcId"},
		"VPC without subnets":                 {map[string]string{"vault-network:existingVpcId": fake.ExistingVpcID()}, "network: Existing.SubnetIDs names 0 subnet(s)"},
		"not a VPC ID":                        {map[string]string{"vault-network:existingVpcId": "vpc1", "vault-network:existingSubnetIds": `["subnet-0123456789abcdef0","subnet-0123456789abcdef1"]`}, `network: Existing.VpcID "vpc1" is not a VPC ID`},
		"vpcCidr has no effect":               {mergeCfg(existingConfig(false), "vault-network:vpcCidr", "10.1.0.0/16"), "vpcCidr has no effect with existingVpcId"},
		"not an endpoint ID":                  {mergeCfg(existingConfig(false), "vault-network:existingKmsEndpointId", "sg-0123456789abcdef0"), `network: Existing.KMSEndpointID "sg-0123456789abcdef0" is not a VPC endpoint ID`},
		"private DNS without an existing VPC": {map[string]string{"vault-network:endpointPrivateDns": "true"}, "endpointPrivateDns is for an existing VPC"},
		"private DNS not a boolean":           {mergeCfg(existingConfig(false), "vault-network:endpointPrivateDns", "yes please"), "is not true or false"},
		"a subnet listed twice":               {mergeCfg(existingConfig(false), "vault-network:existingSubnetIds", `["`+fake.ExistingSubnetIDs()[0]+`","`+fake.ExistingSubnetIDs()[0]+`"]`), "is listed twice"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := runInvokes(c.cfg, nil)
			kittest.Refused(t, err, c.want)
		})
	}
}

func mergeCfg(cfg map[string]string, k, v string) map[string]string {
	cfg[k] = v
	return cfg
}
