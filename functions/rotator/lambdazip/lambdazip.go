// Package lambdazip builds the rotator's Lambda deployment package the same
// way every time: a bootstrap for provided.al2023 on arm64, and a zip that
// holds only that bootstrap, with fixed metadata. Two builds of the same
// module version give byte-identical zips wherever the module sits: the
// release builds it in this repository, and the secrets layer builds it in
// a team's module cache when the team's own program names no zip. So a
// deployment that compares the zip's hash changes the function only when
// its code changed, and a team can check its zip against the release's.
//
// It uses the standard library only, so importing it adds nothing to a
// program, and the rotator's binary does not import it.
package lambdazip

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Epoch is the modification time of every zip entry: the earliest time a
// zip (MS-DOS) timestamp can hold, so no build time leaks in.
var Epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// MaxZipSize is the budget for the zip (8 MiB); Build fails above it.
const MaxZipSize = 8 << 20

// Zip writes a zip with one entry, "bootstrap", mode 0755, modified at
// Epoch, deflated.
func Zip(w io.Writer, bootstrap []byte) error {
	zw := zip.NewWriter(w)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: Epoch}
	h.SetMode(0o755)
	f, err := zw.CreateHeader(h)
	if err != nil {
		return fmt.Errorf("zip: %w", err)
	}
	if _, err := f.Write(bootstrap); err != nil {
		return fmt.Errorf("zip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("zip: %w", err)
	}
	return nil
}

// Result names what Build wrote.
type Result struct {
	Bootstrap, Zip string
	ZipSize        int64
}

// Build compiles the main package at the root of the module in moduleDir
// (this repository's functions/rotator, or that module's folder in a
// module cache) into outDir/bootstrap, then writes outDir/<zipName> with
// Zip. Both files are written atomically.
//
// The module is built alone: GOWORK=off and -mod=readonly, so its own
// go.mod and go.sum choose every dependency, the same in this repository
// as in any module cache, and nothing in the caller's environment
// (GOFLAGS, GOEXPERIMENT, GOARM64) changes the result. The flags are
// fixed: linux/arm64, CGO_ENABLED=0, -trimpath (no folder name gets in),
// -tags lambda.norpc, -buildvcs=false and -ldflags "-s -w -buildid=". Each
// x ("importpath.name=value", e.g. "main.version=0.2.0") is passed on as
// -ldflags -X, in order. The same module version, values and Go release
// give byte-identical zips; another Go release compiles other bytes.
func Build(ctx context.Context, moduleDir, outDir, zipName string, x ...string) (Result, error) {
	ldflags := "-s -w -buildid="
	for _, v := range x {
		name, _, ok := strings.Cut(v, "=")
		if !ok || name == "" || strings.ContainsAny(v, " \t\n'\"\\") {
			return Result{}, fmt.Errorf("-X %q: want importpath.name=value, without blanks or quotes", v)
		}
		ldflags += " -X " + v
	}
	if err := os.MkdirAll(outDir, 0o750); err != nil {
		return Result{}, err
	}
	bin := filepath.Join(outDir, "bootstrap")
	tmpBin := bin + ".tmp"
	absBin, err := filepath.Abs(tmpBin)
	if err != nil {
		return Result{}, err
	}
	// #nosec G204 -- the go tool with fixed flags; the folders come from the build's own caller.
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc",
		"-ldflags", ldflags, "-o", absBin, ".")
	cmd.Dir = moduleDir
	// Later entries win over the caller's own values of the same variables.
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly", "GOEXPERIMENT=",
		"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "GOARM64=v8.0")
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(tmpBin)
		return Result{}, fmt.Errorf("go build in %s: %w\n%s", moduleDir, err, out)
	}
	if err := os.Rename(tmpBin, bin); err != nil {
		return Result{}, err
	}
	code, err := os.ReadFile(bin) // #nosec G304 -- the file this function just built
	if err != nil {
		return Result{}, err
	}
	var buf bytes.Buffer
	if err := Zip(&buf, code); err != nil {
		return Result{}, err
	}
	if buf.Len() > MaxZipSize {
		return Result{}, fmt.Errorf("%s is %d bytes, over the %d-byte budget", zipName, buf.Len(), MaxZipSize)
	}
	zipPath := filepath.Join(outDir, zipName)
	if err := os.WriteFile(zipPath+".tmp", buf.Bytes(), 0o600); err != nil {
		return Result{}, err
	}
	if err := os.Rename(zipPath+".tmp", zipPath); err != nil {
		return Result{}, err
	}
	return Result{Bootstrap: bin, Zip: zipPath, ZipSize: int64(buf.Len())}, nil
}
