package ops

import (
	_ "github.com/open-policy-agent/opa/v1/rego"
	_ "github.com/pulumi/pulumi/sdk/v3/go/auto"
	_ "github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	_ "github.com/pulumi/pulumi/sdk/v3/proto/go"
)
