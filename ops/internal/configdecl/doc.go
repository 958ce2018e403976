// Package configdecl holds the test that keeps each layer's Pulumi.yaml
// (stacks/<layer>/Pulumi.yaml, Pulumi's project config schema: type,
// description, default) true to the layer's code, and each
// Pulumi.example.yaml valid: see configdecl_test.go.
package configdecl
