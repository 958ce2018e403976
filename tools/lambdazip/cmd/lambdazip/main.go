// Command lambdazip builds a Go Lambda function's reproducible deployment
// package (see package lambdazip):
//
//	go run ./tools/lambdazip/cmd/lambdazip -pkg ./functions/rotator -out functions/rotator/dist -zip rotator.zip
//
// It prints the zip's path, size and SHA-256.
package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"

	"github.com/dbvault/dbvault/tools/lambdazip"
)

func main() {
	pkg := flag.String("pkg", "./functions/rotator", "the main package to build, relative to -dir")
	dir := flag.String("dir", ".", "the directory to build in (the workspace root)")
	out := flag.String("out", "functions/rotator/dist", "the output directory")
	zipName := flag.String("zip", "rotator.zip", "the zip's file name")
	flag.Parse()
	r, err := lambdazip.Build(context.Background(), *dir, *pkg, *out, *zipName)
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
