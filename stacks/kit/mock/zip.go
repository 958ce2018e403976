package mock

import (
	"archive/zip"
	"os"
	"path/filepath"
	"testing"
)

// RotatorZip writes a stand-in for the rotator's deployment package into a
// temporary folder of t and returns its path: a zip with one entry,
// bootstrap. The layers hash the package and hand it to Lambda; nothing
// runs it under the mocks, so tests need not build the rotator.
func RotatorZip(t testing.TB) string {
	t.Helper()
	return WriteRotatorZip(t, t.TempDir(), "#!/bin/sh\n")
}

// WriteRotatorZip writes dir/rotator.zip (creating dir) with one entry,
// bootstrap, holding content; a test that needs two packages to differ
// gives them different contents.
func WriteRotatorZip(t testing.TB, dir, content string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "rotator.zip")
	f, err := os.Create(path) // #nosec G304 -- a test's own temporary folder
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, err := zw.Create("bootstrap")
	if err == nil {
		_, err = w.Write([]byte(content))
	}
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}
