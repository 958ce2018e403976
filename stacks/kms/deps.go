package kms

import (
	_ "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	_ "github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)
