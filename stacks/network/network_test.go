package network_test

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
	"github.com/dbvault/dbvault/stacks/kit/kittest"
	"github.com/dbvault/dbvault/stacks/kit/mock"
	"github.com/dbvault/dbvault/stacks/network"
)

const account = awsfake.DefaultAccount

// Resource types, as the engine receives them.
const (
	tVpc        = "aws:ec2/vpc:Vpc"
	tSubnet     = "aws:ec2/subnet:Subnet"
	tRouteTable = "aws:ec2/routeTable:RouteTable"
	tRTAssoc    = "aws:ec2/routeTableAssociation:RouteTableAssociation"
	tSG         = "aws:ec2/securityGroup:SecurityGroup"
	tDefaultSG  = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
	tIngress    = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	tEgress     = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	tEndpoint   = "aws:ec2/vpcEndpoint:VpcEndpoint"
)

// taggable and untaggable sort every type the layer registers: a new type
// fails the test until it is put in one of them, so the tag check below
// cannot silently skip it. (taggable = its Args has a Tags field.)
var (
	taggable   = []string{tVpc, tSubnet, tRouteTable, tSG, tDefaultSG, tIngress, tEgress, tEndpoint}
	untaggable = []string{tRTAssoc, network.ComponentType}
)

func run(t *testing.T, extra map[string]string) mock.Result {
	t.Helper()
	return kittest.Run(t, network.Layer, mock.RunOptions{Stack: "dev", Config: kittest.Config(kit.NetworkProject, extra)})
}

func runErr(extra map[string]string, env *awsfake.Env) (mock.Result, error) {
	return mock.Run(network.Layer, mock.RunOptions{Stack: "dev", Config: kittest.Config(kit.NetworkProject, extra), AWS: env})
}

// The readers of what a run registered (kittest), by the short names the
// tests use on nearly every line.
var (
	one  = kittest.One
	str  = kittest.Str
	strs = kittest.Strs
)

func id(r mock.Resource) string { return r.Outputs["id"].StringValue() }

// endpoints are the two interface endpoints of res. It fails t unless
// each has private DNS on exactly when privateDNS is true; why says why.
func endpoints(t *testing.T, res mock.Result, privateDNS bool, why string) []mock.Resource {
	t.Helper()
	eps := res.ByType(tEndpoint)
	if len(eps) != 2 {
		t.Fatalf("%d endpoints, want 2", len(eps))
	}
	for _, e := range eps {
		if e.Input("privateDnsEnabled") != privateDNS {
			t.Errorf("%s: private DNS %v, want %v: %s", e.Name, e.Input("privateDnsEnabled"), privateDNS, why)
		}
	}
	return eps
}

func TestEveryResourceNamedTaggedAndParented(t *testing.T) {
	res := run(t, map[string]string{"vault-network:costCenter": "cc-42"})
	kittest.Children(t, res, network.ComponentType)
	name := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*-dev$`)
	for _, p := range res.TaggingProblems() {
		t.Error(p)
	}
	for _, r := range kittest.Taggable(t, res, taggable, untaggable) {
		kittest.CheckTags(t, r, kit.Tags{Environment: "dev", CostCenter: "cc-42", Compliance: kit.DefaultCompliance})
		if n := r.Tags()["Name"]; !name.MatchString(n) {
			t.Errorf("%s (%s): Name tag %q is not {type}-dev", r.Name, r.Type, n)
		}
	}
	for _, r := range res.Resources {
		if n := str(r, "name"); r.Inputs.HasValue("name") && !name.MatchString(n) {
			t.Errorf("%s (%s): name %q is not {type}-dev", r.Name, r.Type, n)
		}
	}
	if len(res.References) != 0 {
		t.Errorf("network references no stack, got %v", res.References)
	}
}

func TestPrivateVpcWithoutInternetPath(t *testing.T) {
	res := run(t, nil)
	for _, typ := range res.Types() {
		for _, bad := range []string{"internetGateway", "natGateway", "/eip:", "egressOnlyInternetGateway", "vpnGateway", "/route:Route", "vpcPeering", "transitGateway", "customerGateway"} {
			if strings.Contains(typ, bad) {
				t.Errorf("forbidden resource type %s", typ)
			}
		}
	}
	v := one(t, res, tVpc)
	if str(v, "cidrBlock") != network.DefaultVpcCidr || v.Input("enableDnsSupport") != true || v.Input("enableDnsHostnames") != true {
		t.Errorf("vpc inputs: %v", mock.PlainMap(v.Inputs, nil))
	}
	subnets := res.ByType(tSubnet)
	if len(subnets) != network.DefaultAZCount {
		t.Fatalf("%d subnets, want %d", len(subnets), network.DefaultAZCount)
	}
	vpcCidr := netip.MustParsePrefix(network.DefaultVpcCidr)
	azs, cidrs, subnetIDs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, s := range subnets {
		if s.Input("mapPublicIpOnLaunch") != false {
			t.Errorf("%s: mapPublicIpOnLaunch = %v, want false", s.Name, s.Input("mapPublicIpOnLaunch"))
		}
		if s.Inputs.HasValue("ipv6CidrBlock") || s.Inputs.HasValue("assignIpv6AddressOnCreation") {
			t.Errorf("%s: IPv6 set", s.Name)
		}
		if str(s, "vpcId") != id(v) {
			t.Errorf("%s: vpcId %q", s.Name, str(s, "vpcId"))
		}
		p := netip.MustParsePrefix(str(s, "cidrBlock"))
		if p.Bits() != 20 || !vpcCidr.Contains(p.Addr()) {
			t.Errorf("%s: cidr %s not a /20 inside %s", s.Name, p, vpcCidr)
		}
		azs[str(s, "availabilityZone")] = true
		cidrs[p.String()] = true
		subnetIDs[id(s)] = true
	}
	// us-east-1c is use1-az3 offline, excluded by default: a, b and d.
	if len(azs) != 3 || !azs["us-east-1a"] || !azs["us-east-1b"] || !azs["us-east-1d"] {
		t.Errorf("subnet AZs %v, want us-east-1a, b and d, one each (use1-az3 excluded)", azs)
	}
	if len(cidrs) != 3 {
		t.Errorf("subnet CIDRs overlap: %v", cidrs)
	}

	rt := one(t, res, tRouteTable)
	if routes, _ := rt.Input("routes").([]any); len(routes) != 0 || rt.Inputs.HasValue("propagatingVgws") {
		t.Errorf("route table has routes: %v", mock.PlainMap(rt.Inputs, nil))
	}
	assocs := res.ByType(tRTAssoc)
	if len(assocs) != len(subnets) {
		t.Fatalf("%d route table associations for %d subnets", len(assocs), len(subnets))
	}
	for _, a := range assocs {
		if str(a, "routeTableId") != id(rt) || !subnetIDs[str(a, "subnetId")] {
			t.Errorf("%s: associates %q with %q", a.Name, str(a, "subnetId"), str(a, "routeTableId"))
		}
		delete(subnetIDs, str(a, "subnetId"))
	}
	if len(subnetIDs) != 0 {
		t.Errorf("subnets without the private route table: %v", subnetIDs)
	}
}

// ruleSet renders every security group rule as "<dir> <group> <proto>/<from>-<to> <peer>",
// with groups named by their physical names, and fails on any rule with an
// unexpected shape (all protocols, a port range, both or neither peer).
func ruleSet(t *testing.T, res mock.Result) []string {
	t.Helper()
	groups := map[string]string{}
	for _, g := range res.ByType(tSG) {
		groups[id(g)] = str(g, "name")
	}
	var out []string
	for _, typ := range []string{tIngress, tEgress} {
		for _, r := range res.ByType(typ) {
			dir := "ingress"
			if typ == tEgress {
				dir = "egress"
			}
			group, ok := groups[str(r, "securityGroupId")]
			if !ok {
				t.Errorf("%s: rule on unknown group %q", r.Name, str(r, "securityGroupId"))
			}
			peers := 0
			peer := ""
			for _, k := range []string{"cidrIpv4", "cidrIpv6", "prefixListId", "referencedSecurityGroupId"} {
				if v := str(r, k); v != "" {
					peers++
					peer = k + "=" + v
					if k == "referencedSecurityGroupId" && groups[v] != "" {
						peer = "sg=" + groups[v]
					}
				}
			}
			if peers != 1 {
				t.Errorf("%s: %d peers, want exactly 1", r.Name, peers)
			}
			if c := str(r, "cidrIpv4"); c == "0.0.0.0/0" || str(r, "cidrIpv6") != "" {
				t.Errorf("%s: open to %s%s", r.Name, c, str(r, "cidrIpv6"))
			}
			if str(r, "description") == "" {
				t.Errorf("%s: no description", r.Name)
			}
			out = append(out, fmt.Sprintf("%s %s %s/%v-%v %s", dir, group, str(r, "ipProtocol"), r.Input("fromPort"), r.Input("toPort"), peer))
		}
	}
	sort.Strings(out)
	return out
}

func TestSecurityGroupsAdmitOnlyWhatTheyMust(t *testing.T) {
	res := run(t, nil)
	sgs := res.ByType(tSG)
	names := []string{}
	for _, g := range sgs {
		names = append(names, str(g, "name"))
		if g.Inputs.HasValue("ingress") || g.Inputs.HasValue("egress") {
			t.Errorf("%s: inline rules %v / %v; every rule must be its own resource", g.Name, g.Input("ingress"), g.Input("egress"))
		}
		if g.Input("revokeRulesOnDelete") != true {
			t.Errorf("%s: revokeRulesOnDelete not set: groups that reference each other would block destroy", g.Name)
		}
		if str(g, "vpcId") != id(one(t, res, tVpc)) || str(g, "description") == "" {
			t.Errorf("%s: vpcId %q description %q", g.Name, str(g, "vpcId"), str(g, "description"))
		}
	}
	sort.Strings(names)
	if !slices.Equal(names, []string{"database-sg-dev", "endpoints-sg-dev", "rotator-sg-dev"}) {
		t.Errorf("security groups %v", names)
	}
	d := one(t, res, tDefaultSG)
	if d.Inputs.HasValue("ingress") || d.Inputs.HasValue("egress") || str(d, "vpcId") != id(one(t, res, tVpc)) {
		t.Errorf("default security group must be adopted with no rules: %v", mock.PlainMap(d.Inputs, nil))
	}

	got := ruleSet(t, res)
	want := []string{
		"egress rotator-sg-dev tcp/3306-3306 sg=database-sg-dev",
		"egress rotator-sg-dev tcp/443-443 sg=endpoints-sg-dev",
		"ingress database-sg-dev tcp/3306-3306 sg=rotator-sg-dev",
		// The endpoints admit the rotator's group, not whole subnets.
		"ingress endpoints-sg-dev tcp/443-443 sg=rotator-sg-dev",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rules:\n got %q\nwant %q", got, want)
	}
}

func TestApplicationGroupsReachTheDatabaseOnly(t *testing.T) {
	res := run(t, map[string]string{"vault-network:appSecurityGroupIds": `["sg-0123456789abcdef0","sg-0fedcba9876543210"]`})
	got := ruleSet(t, res)
	for _, app := range []string{"sg-0123456789abcdef0", "sg-0fedcba9876543210"} {
		for _, rule := range []string{
			"ingress database-sg-dev tcp/3306-3306 referencedSecurityGroupId=" + app,
			// and the endpoints, to read their secrets
			"ingress endpoints-sg-dev tcp/443-443 referencedSecurityGroupId=" + app,
		} {
			if !slices.Contains(got, rule) {
				t.Errorf("missing %q in %q", rule, got)
			}
		}
	}
	if len(got) != 8 {
		t.Errorf("%d rules, want the 4 base rules and 2 for each application: %q", len(got), got)
	}
}

func TestEndpointsArePrivateAndAdmitOnlyThisAccount(t *testing.T) {
	res := run(t, nil)
	endpointSG := ""
	for _, g := range res.ByType(tSG) {
		if str(g, "name") == "endpoints-sg-dev" {
			endpointSG = id(g)
		}
	}
	var subnets []string
	for _, s := range res.ByType(tSubnet) {
		subnets = append(subnets, id(s))
	}
	sort.Strings(subnets)
	eps := res.ByType(tEndpoint)
	services := map[string]bool{}
	for _, e := range eps {
		svc := strings.TrimPrefix(str(e, "serviceName"), "com.amazonaws.us-east-1.")
		services[svc] = true
		if str(e, "vpcEndpointType") != "Interface" || e.Input("privateDnsEnabled") != true {
			t.Errorf("%s: type %q privateDns %v", e.Name, str(e, "vpcEndpointType"), e.Input("privateDnsEnabled"))
		}
		got := strs(e, "subnetIds")
		sort.Strings(got)
		if !slices.Equal(got, subnets) {
			t.Errorf("%s: subnets %v, want every private subnet %v", e.Name, got, subnets)
		}
		if sg := strs(e, "securityGroupIds"); !slices.Equal(sg, []string{endpointSG}) {
			t.Errorf("%s: security groups %v, want only the endpoints group", e.Name, sg)
		}
		for _, s := range kittest.Statements(t, str(e, "policy")) {
			if s.Effect != "Allow" || s.Principal != "*" {
				t.Errorf("%s: statement %+v", e.Name, s)
			}
			eq := s.Condition["StringEquals"]
			if len(s.Condition) != 1 || len(eq) != 1 || eq["aws:PrincipalAccount"] != account {
				t.Errorf("%s: statement %v lacks exactly aws:PrincipalAccount = %s", e.Name, s.Sid, account)
			}
			actions := kittest.List(s.Action)
			for _, a := range actions {
				if a == "*" || strings.HasSuffix(a, ":*") || !strings.HasPrefix(a, svc+":") {
					t.Errorf("%s: action %q is a wildcard or another service's", e.Name, a)
				}
			}
			for _, r := range kittest.List(s.Resource) {
				scoped := strings.HasPrefix(r, fmt.Sprintf("arn:aws:%s:us-east-1:%s:", svc, account))
				if !scoped && !(r == "*" && slices.Equal(actions, []string{"secretsmanager:GetRandomPassword"})) {
					t.Errorf("%s: resource %q for %v is not this account's", e.Name, r, actions)
				}
			}
		}
	}
	if len(eps) != 2 || !services["secretsmanager"] || !services["kms"] {
		t.Errorf("endpoints for %v, want secretsmanager and kms", services)
	}
}

func TestExports(t *testing.T) {
	res := run(t, nil)
	want := []string{"availabilityZoneIds", "availabilityZones", "databaseSecurityGroupId", "endpointSecurityGroupId", "kmsEndpointId", "kmsEndpointUrl", "privateSubnetIds",
		"rotatorSecurityGroupId", "secretsManagerEndpointDns", "secretsManagerEndpointId", "secretsManagerEndpointUrl", "vpcCidr", "vpcId"}
	var got []string
	for k, o := range res.Outputs {
		got = append(got, k)
		if o.Secret || o.Value == nil || o.Value == "" {
			t.Errorf("output %s = %+v", k, o)
		}
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Fatalf("outputs %v, want %v", got, want)
	}
	if res.Outputs["vpcId"].Value != id(one(t, res, tVpc)) || res.Outputs["vpcCidr"].Value != network.DefaultVpcCidr {
		t.Errorf("vpc outputs %v %v", res.Outputs["vpcId"], res.Outputs["vpcCidr"])
	}
	groups := map[string]string{}
	for _, g := range res.ByType(tSG) {
		groups[str(g, "name")] = id(g)
	}
	for out, sg := range map[string]string{"rotatorSecurityGroupId": "rotator-sg-dev", "databaseSecurityGroupId": "database-sg-dev", "endpointSecurityGroupId": "endpoints-sg-dev"} {
		if res.Outputs[out].Value != groups[sg] {
			t.Errorf("%s = %v, want %s's id %s", out, res.Outputs[out].Value, sg, groups[sg])
		}
	}
	subnets, _ := res.Outputs["privateSubnetIds"].Value.([]any)
	azs, _ := res.Outputs["availabilityZones"].Value.([]any)
	if len(subnets) != 3 || len(azs) != 3 || azs[0] != "us-east-1a" {
		t.Errorf("privateSubnetIds %v availabilityZones %v", subnets, azs)
	}
	for i, s := range res.ByType(tSubnet) {
		if subnets[i] != id(res.ByType(tSubnet)[i]) {
			t.Errorf("privateSubnetIds[%d] = %v, want %s (%s)", i, subnets[i], id(s), s.Name)
		}
	}
	if dns, _ := res.Outputs["secretsManagerEndpointDns"].Value.(string); !strings.HasSuffix(dns, ".secretsmanager.us-east-1.vpce.amazonaws.com") {
		t.Errorf("secretsManagerEndpointDns = %q", dns)
	}
	// The vault's own VPC: private DNS, so the regional names reach the
	// endpoints.
	if u := res.Outputs["secretsManagerEndpointUrl"].Value; u != "https://secretsmanager.us-east-1.amazonaws.com" {
		t.Errorf("secretsManagerEndpointUrl = %v, want the regional name", u)
	}
	if u := res.Outputs["kmsEndpointUrl"].Value; u != "https://kms.us-east-1.amazonaws.com" {
		t.Errorf("kmsEndpointUrl = %v, want the regional name", u)
	}
	for _, e := range res.ByType(tEndpoint) {
		out := "kmsEndpointId"
		if strings.HasSuffix(str(e, "serviceName"), "secretsmanager") {
			out = "secretsManagerEndpointId"
		}
		if res.Outputs[out].Value != id(e) {
			t.Errorf("%s = %v, want %s", out, res.Outputs[out].Value, id(e))
		}
	}
}

func TestConfigShapesTheNetwork(t *testing.T) {
	env := &awsfake.Env{Account: account, Region: "eu-west-1"}
	res, err := runErr(map[string]string{
		"aws:region":                "eu-west-1",
		"vault-network:azCount":     "2",
		"vault-network:vpcCidr":     "172.20.8.0/24",
		"vault-network:environment": "staging",
	}, env)
	if err != nil {
		t.Fatal(err)
	}
	var cidrs, azs []string
	for _, s := range res.ByType(tSubnet) {
		cidrs = append(cidrs, str(s, "cidrBlock"))
		azs = append(azs, str(s, "availabilityZone"))
	}
	sort.Strings(cidrs)
	sort.Strings(azs)
	if !slices.Equal(cidrs, []string{"172.20.8.0/28", "172.20.8.16/28"}) || !slices.Equal(azs, []string{"eu-west-1a", "eu-west-1b"}) {
		t.Errorf("subnets %v in %v", cidrs, azs)
	}
	for _, e := range res.ByType(tEndpoint) {
		if !strings.HasPrefix(str(e, "serviceName"), "com.amazonaws.eu-west-1.") {
			t.Errorf("%s: service %q not in eu-west-1", e.Name, str(e, "serviceName"))
		}
	}
	if tags := one(t, res, tVpc).Tags(); tags["Environment"] != "staging" {
		t.Errorf("Environment tag %q, want staging", tags["Environment"])
	}
}

func TestBadConfigIsRefusedClearly(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config map[string]string
		want   string
	}{
		{"missing suffix", map[string]string{"vault-network:environmentSuffix": ""}, "environmentSuffix is required"},
		{"malformed suffix", map[string]string{"vault-network:environmentSuffix": "Dev_1"}, "lower-case letters"},
		{"long suffix", map[string]string{"vault-network:environmentSuffix": strings.Repeat("a", kit.MaxSuffixLen+1)}, "at most 20"},
		{"one AZ", map[string]string{"vault-network:azCount": "1"}, "at least 2 availability zones"},
		{"AZ count not a number", map[string]string{"vault-network:azCount": "three"}, `azCount "three" is not a whole number`},
		{"more AZs than the region has", map[string]string{"vault-network:azCount": "7"}, "azCount is 7 but only 5 zones are usable"},
		{"exclusions not a list", map[string]string{"vault-network:excludeZoneIds": `"use1-az1"`}, "excludeZoneIds is not valid"},
		{"not a CIDR", map[string]string{"vault-network:vpcCidr": "10.40.0.0/33"}, "is not a CIDR block"},
		{"host bits set", map[string]string{"vault-network:vpcCidr": "10.40.1.0/16"}, "network: VpcCidr 10.40.1.0/16 has host bits set; did you mean 10.40.0.0/16"},
		{"public range", map[string]string{"vault-network:vpcCidr": "8.8.0.0/16"}, "network: VpcCidr 8.8.0.0/16 is not in a private range"},
		{"too wide", map[string]string{"vault-network:vpcCidr": "10.0.0.0/8"}, "network: VpcCidr 10.0.0.0/8: the prefix must be /16 to /24"},
		{"too narrow", map[string]string{"vault-network:vpcCidr": "10.0.0.0/26"}, "network: VpcCidr 10.0.0.0/26: the prefix must be /16 to /24"},
		{"IPv6", map[string]string{"vault-network:vpcCidr": "fd00::/48"}, `network: VpcCidr "fd00::/48" is not an IPv4 CIDR block`},
		{"app groups not a list", map[string]string{"vault-network:appSecurityGroupIds": "sg-0123456789abcdef0"}, "must be a JSON list"},
		{"app group not an SG", map[string]string{"vault-network:appSecurityGroupIds": `["vpc-0123456789abcdef0"]`}, `network: AppSecurityGroupIDs[0] "vpc-0123456789abcdef0" is not a security group ID (sg-<hex>)`},
		{"open app group", map[string]string{"vault-network:appSecurityGroupIds": `["0.0.0.0/0"]`}, `network: AppSecurityGroupIDs[0] "0.0.0.0/0" is not a security group ID (sg-<hex>)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runErr(tc.config, nil)
			kittest.Refused(t, err, tc.want)
		})
	}
}

// Zones are chosen by zone ID (the same physical zone in every account):
// excluded IDs and zones an endpoint service does not offer are skipped.
func TestChooseZones(t *testing.T) {
	names := []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"}
	ids := []string{"use1-az4", "use1-az6", "use1-az3", "use1-az1"}
	all := [][]string{names, names}
	gotN, gotI, err := network.ChooseZones(names, ids, []string{"use1-az3"}, all, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotI, []string{"use1-az1", "use1-az4", "use1-az6"}) || !slices.Equal(gotN, []string{"us-east-1d", "us-east-1a", "us-east-1b"}) {
		t.Errorf("chose %v %v, want az1, az4, az6 in zone-ID order with their names", gotN, gotI)
	}
	// KMS's endpoint is not offered in us-east-1d.
	_, gotI, err = network.ChooseZones(names, ids, nil, [][]string{names, names[:3]}, 3)
	if err != nil || !slices.Equal(gotI, []string{"use1-az3", "use1-az4", "use1-az6"}) {
		t.Errorf("chose %v (%v), want the three zones with both endpoints", gotI, err)
	}
	_, _, err = network.ChooseZones(names, ids, []string{"use1-az3"}, [][]string{names, names[:3]}, 3)
	if err == nil || !strings.Contains(err.Error(), "azCount is 3 but only 2 zones are usable") || !strings.Contains(err.Error(), "use1-az3") {
		t.Errorf("err = %v", err)
	}
}

func TestZoneIDsExportedAndExclusionsConfigurable(t *testing.T) {
	res := run(t, nil)
	if got := fmt.Sprint(res.Outputs["availabilityZoneIds"].Value); got != "[use1-az1 use1-az2 use1-az4]" {
		t.Errorf("availabilityZoneIds = %s", got)
	}
	res = run(t, map[string]string{"vault-network:excludeZoneIds": `["use1-az1"]`})
	if got := fmt.Sprint(res.Outputs["availabilityZoneIds"].Value); got != "[use1-az2 use1-az3 use1-az4]" {
		t.Errorf("availabilityZoneIds with use1-az1 excluded = %s", got)
	}
	if got := fmt.Sprint(res.Outputs["availabilityZones"].Value); got != "[us-east-1b us-east-1c us-east-1d]" {
		t.Errorf("availabilityZones = %s", got)
	}
}

func TestSubnetCidrs(t *testing.T) {
	got, err := network.SubnetCidrs(netip.MustParsePrefix("10.40.0.0/16"), 16)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].String() != "10.40.0.0/20" || got[1].String() != "10.40.16.0/20" || got[15].String() != "10.40.240.0/20" {
		t.Errorf("subnets %v", got)
	}
	if _, err := network.SubnetCidrs(netip.MustParsePrefix("10.40.0.0/16"), 17); err == nil {
		t.Error("17 subnets of a /16 must be refused")
	}
}
