package network

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The preview's one line names the choice and its reason for each path.
func TestEndpointChoiceSaysWhichAndWhy(t *testing.T) {
	id := pulumi.String("vpce-0123456789abcdef0")
	for name, c := range map[string]struct {
		e          *Existing
		privateDNS bool
		want       []string
	}{
		"vault VPC":         {nil, true, []string{"with private DNS", "the vault owns the VPC"}},
		"existing both":     {&Existing{SecretsManagerEndpointID: id, KMSEndpointID: id}, false, []string{"uses the existing VPC's", "creates none"}},
		"existing one":      {&Existing{KMSEndpointID: id}, false, []string{"uses the existing endpoint", "without private DNS", "secretsManagerEndpointUrl"}},
		"created, no DNS":   {&Existing{}, false, []string{"creates without private DNS", "other workloads keep"}},
		"created, with DNS": {&Existing{PrivateDNS: true}, true, []string{"with private DNS (endpointPrivateDns: true)", "every workload"}},
	} {
		got := endpointChoice(c.e, c.privateDNS)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", name, got, w)
			}
		}
	}
}

// An endpoint's own regional name is found whatever the order of its DNS
// entries: zonal names, the regional one, the service's name.
func TestEndpointDNSNameIsTheRegionalOne(t *testing.T) {
	regional := "vpce-0abc-12ef.secretsmanager.us-east-1.vpce.amazonaws.com"
	zonal := "vpce-0abc-12ef-us-east-1a.secretsmanager.us-east-1.vpce.amazonaws.com"
	service := "secretsmanager.us-east-1.amazonaws.com"
	for _, names := range [][]string{{regional, zonal, service}, {zonal, regional}, {service, zonal, regional}} {
		if got := EndpointDNSName(names); got != regional {
			t.Errorf("EndpointDNSName(%v) = %q, want %q", names, got, regional)
		}
	}
	if got := EndpointDNSName([]string{service}); got != "" {
		t.Errorf("EndpointDNSName of the service's name alone = %q, want none", got)
	}
}

// A created endpoint without a name of its own is an error, not an empty URL.
func TestAnEndpointWithoutItsOwnNameIsAnError(t *testing.T) {
	service := "secretsmanager.us-east-1.amazonaws.com"
	if _, err := ownDNSName("secretsmanager", []ec2.VpcEndpointDnsEntry{{DnsName: &service}}); err == nil || !strings.Contains(err.Error(), "no DNS name of its own") {
		t.Fatalf("err = %v, want the missing name", err)
	}
}
