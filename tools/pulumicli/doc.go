// Package pulumicli pins the Pulumi CLI (engine) the offline rehearsal runs on.
//
// This module lives outside go.work on purpose: github.com/pulumi/pulumi/pkg/v3
// drags in hundreds of modules that no workspace module should see. Build it with
// GOWORK=off; ops/rehearse does so and caches the binary per machine.
package pulumicli
