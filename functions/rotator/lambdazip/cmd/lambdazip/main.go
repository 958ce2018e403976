// Command lambdazip builds the rotator's reproducible deployment package
// from a folder holding the module (see package lambdazip):
//
//	go run ./functions/rotator/lambdazip/cmd/lambdazip -module functions/rotator -out functions/rotator/dist -zip rotator.zip -X main.version=0.2.0
//
// -X (repeatable) sets a string variable at link time, as go build -ldflags -X.
// It prints the zip's path, size and SHA-256.
package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/dbvault/dbvault/functions/rotator/lambdazip"
)

func main() {
	module := flag.String("module", "functions/rotator", "the folder of the module whose root package is built")
	out := flag.String("out", "functions/rotator/dist", "the output directory")
	zipName := flag.String("zip", "rotator.zip", "the zip's file name")
	var x xFlags
	flag.Var(&x, "X", "importpath.name=value: set a string variable at link time (repeatable)")
	flag.Parse()
	r, err := lambdazip.Build(context.Background(), *module, *out, *zipName, x...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambdazip:", err)
		os.Exit(1)
	}
	b, err := os.ReadFile(r.Zip)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambdazip:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d bytes, sha256 %x\n", r.Zip, r.ZipSize, sha256.Sum256(b))
}

// xFlags collects the repeated -X flags in order.
type xFlags []string

func (x *xFlags) String() string { return strings.Join(*x, " ") }

func (x *xFlags) Set(v string) error {
	*x = append(*x, v)
	return nil
}
