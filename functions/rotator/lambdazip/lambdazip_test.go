package lambdazip

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestZipHasOneExecutableEntryWithFixedTime(t *testing.T) {
	var a, b bytes.Buffer
	if err := Zip(&a, []byte("binary")); err != nil {
		t.Fatal(err)
	}
	if err := Zip(&b, []byte("binary")); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two zips of the same bootstrap differ")
	}
	zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 {
		t.Fatalf("%d entries", len(zr.File))
	}
	f := zr.File[0]
	if f.Name != "bootstrap" || f.Mode().Perm() != 0o755 || !f.Modified.Equal(Epoch) {
		t.Fatalf("entry %s mode %v modified %v", f.Name, f.Mode(), f.Modified)
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	if string(got) != "binary" {
		t.Fatal("content changed")
	}
}

func TestBuildRefusesAMalformedX(t *testing.T) {
	for _, x := range []string{"main.version", "=1", "main.version=1 -extld=evil", `main.version="1"`} {
		if _, err := Build(context.Background(), t.TempDir(), t.TempDir(), "x.zip", x); err == nil {
			t.Errorf("-X %q accepted", x)
		}
	}
}

// TestRotatorBuildsAreIdentical builds the rotator module twice, as
// `go run mage.go dev:build` does (with the version set by -X main.version):
// once in this repository and once from a copy of the module in another
// folder, as the secrets layer builds it in a team's module cache, with
// GOFLAGS and GOWORK of the caller's that must not change the result. The
// zips are the same bytes.
func TestRotatorBuildsAreIdentical(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the rotator twice")
	}
	module, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(t.TempDir(), "rotator@v0.0.0")
	if err := os.CopyFS(elsewhere, os.DirFS(module)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(elsewhere, "dist")); err != nil {
		t.Fatal(err)
	}
	var zips [2][]byte
	for i, dir := range []string{module, elsewhere} {
		if i == 1 {
			t.Setenv("GOFLAGS", "-mod=mod -gcflags=all=-N")
			t.Setenv("GOWORK", filepath.Join(t.TempDir(), "go.work"))
		}
		out := t.TempDir()
		r, err := Build(context.Background(), dir, out, "rotator.zip", "main.version=0.0.0-lambdazip-test")
		if err != nil {
			t.Fatal(err)
		}
		if code, err := os.ReadFile(r.Bootstrap); err != nil || !bytes.Contains(code, []byte("0.0.0-lambdazip-test")) {
			t.Fatalf("the bootstrap does not carry the -X value (%v)", err)
		}
		if zips[i], err = os.ReadFile(r.Zip); err != nil {
			t.Fatal(err)
		}
		if r.ZipSize > MaxZipSize {
			t.Fatalf("zip is %d bytes", r.ZipSize)
		}
		t.Logf("build %d (%s): %d bytes", i+1, dir, r.ZipSize)
	}
	if !bytes.Equal(zips[0], zips[1]) {
		t.Fatal("the rotator built in the repository and from a copy of its module gave different zips")
	}
}
