package secrets_test

import (
	"strings"
	"testing"

	"github.com/dbvault/dbvault/stacks/kit/mock"
)

// rotatorEndpoint runs the layer with the network stack's
// secretsManagerEndpointUrl output set to url (absent when nil) and returns
// the rotator's SECRETS_MANAGER_ENDPOINT.
func rotatorEndpoint(t *testing.T, url any) (string, error) {
	t.Helper()
	stacks := refs()
	if url != nil {
		stacks["organization/vault-network/dev"]["secretsManagerEndpointUrl"] = mock.Output{Value: url}
	}
	res, err := runWith(t, baseConfig(t), stacks)
	if err != nil {
		return "", err
	}
	return str(one(t, res, "aws:lambda/function:Function"), "environment", "variables", "SECRETS_MANAGER_ENDPOINT"), nil
}

// In an existing VPC whose endpoint has no private DNS, the regional name
// leads nowhere: the rotator calls the endpoint by the name the network
// layer hands on.
func TestRotatorCallsTheNetworkLayersEndpointURL(t *testing.T) {
	const url = "https://vpce-0123456789abcdef0-abcd1234.secretsmanager.us-east-1.vpce.amazonaws.com"
	got, err := rotatorEndpoint(t, url)
	if err != nil {
		t.Fatal(err)
	}
	if got != url {
		t.Errorf("SECRETS_MANAGER_ENDPOINT = %q, want the network layer's %q", got, url)
	}
}

// A network stack deployed before the output existed always gave its
// endpoints private DNS: the regional name reaches them.
func TestRotatorFallsBackToTheRegionalName(t *testing.T) {
	for name, url := range map[string]any{"absent": nil, "empty": ""} {
		got, err := rotatorEndpoint(t, url)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != "https://secretsmanager.us-east-1.amazonaws.com" {
			t.Errorf("%s: SECRETS_MANAGER_ENDPOINT = %q, want the regional name", name, got)
		}
	}
}

func TestMalformedEndpointURLIsNamed(t *testing.T) {
	_, err := rotatorEndpoint(t, []any{"https://x"})
	if err == nil || !strings.Contains(err.Error(), "secretsManagerEndpointUrl") {
		t.Fatalf("err = %v, want one naming secretsManagerEndpointUrl", err)
	}
}

// The rotator sends every new password to this URL: a host that is not
// Secrets Manager's is refused, whoever set the network stack's output.
func TestForeignEndpointURLIsRefused(t *testing.T) {
	for _, url := range []string{
		"https://secrets.attacker.example",
		"http://vpce-0123456789abcdef0-abcd1234.secretsmanager.us-east-1.vpce.amazonaws.com",
		"https://vpce-0123456789abcdef0-abcd1234.secretsmanager.eu-west-1.vpce.amazonaws.com",
		"https://vpce-0123456789abcdef0-abcd1234.kms.us-east-1.vpce.amazonaws.com",
		"https://vpce-0123456789abcdef0-abcd1234.secretsmanager.us-east-1.vpce.amazonaws.com.attacker.example",
	} {
		if _, err := rotatorEndpoint(t, url); err == nil || !strings.Contains(err.Error(), "refuses any other host") {
			t.Errorf("%s: err = %v, want the refusal", url, err)
		}
	}
	// A zonal name of the endpoint is Secrets Manager's too.
	zonal := "https://vpce-0123456789abcdef0-abcd1234-us-east-1a.secretsmanager.us-east-1.vpce.amazonaws.com"
	if got, err := rotatorEndpoint(t, zonal); err != nil || got != zonal {
		t.Errorf("zonal name: %q, %v", got, err)
	}
}
