// Package configdecl reads each layer's config declarations
// (stacks/<layer>/Pulumi.yaml, Pulumi's project config schema: type,
// description, default) and writes what follows from them: a stack's
// config file with every key, its default and its rule as comments
// (StackFile, for `go run mage.go configure`), and the configuration tables
// of README.md and stacks/<layer>/README.md (Tables). Its tests keep the
// declarations true to the layers' code and each Pulumi.example.yaml valid:
// see configdecl_test.go.
package configdecl
