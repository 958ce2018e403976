// Package consumer holds one test, which proves that a team can use the
// vault's components from its own Go program with a plain `go get`: no
// clone of this repository, no replace.
//
// It releases a copy of the repository at a test version with the release
// target, serves the tagged modules from a file-based module proxy laid
// out as cmd/go reads one, and builds testdata/platform, a program outside
// the workspace, against it. The program's vault builds the rotator by
// itself from the module cache, and the test checks that this zip is the
// release's, byte for byte.
//
// The test lives in the tools module, beside the other test machinery:
// it needs golang.org/x/mod, which no module a team requires should carry,
// and it imports nothing of the vault (the program it builds does).
package consumer
