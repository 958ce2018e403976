// Package smlocal gives this module's commands and tools the Secrets
// Manager emulator under its old import path. The emulator lives in
// github.com/dbvault/dbvault/functions/rotator/smlocal, beside the
// rotator whose tests run on it, so that the rotator's module needs
// nothing of this one; new code imports it from there.
package smlocal

import "github.com/dbvault/dbvault/functions/rotator/smlocal"

// The emulator's types (see functions/rotator/smlocal).
type (
	Server        = smlocal.Server
	Options       = smlocal.Options
	Invoker       = smlocal.Invoker
	InvokerFunc   = smlocal.InvokerFunc
	Fault         = smlocal.Fault
	FunctionError = smlocal.FunctionError
)

// New is smlocal.New.
func New(opts Options) (*Server, error) { return smlocal.New(opts) }

// LambdaEndpoint is smlocal.LambdaEndpoint.
func LambdaEndpoint(baseURL string) Invoker { return smlocal.LambdaEndpoint(baseURL) }

// Operations is smlocal.Operations.
func Operations() []string { return smlocal.Operations() }
