// Command preflight runs the checks a deploy or rotation target needs
// before it builds anything (package ops/deploy/preflight): `preflight
// <need>`, one of deployAll, destroyAll, previewAll, layer, outputs,
// status, rotate, verify. It prints every missing piece and exits 1, or
// prints nothing and exits 0. The targets run it first, so that a missing
// Pulumi CLI or passphrase fails within seconds of a cold checkout.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/dbvault/dbvault/ops/deploy/preflight"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

func run(args []string, getenv func(string) string, stderr io.Writer) int {
	var names []string
	for n := range preflight.Needs {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(args) != 1 {
		fmt.Fprintf(stderr, "usage: preflight <%s>\n", strings.Join(names, "|"))
		return 2
	}
	need, ok := preflight.Needs[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "preflight: %q is none of %s\n", args[0], strings.Join(names, ", "))
		return 2
	}
	if err := preflight.Check(context.Background(), getenv, need); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
