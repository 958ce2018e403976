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

// TestRotatorBuildsAreIdentical builds the rotator twice into two
// directories, as `go run mage.go build` does (with the version set by
// -X main.version), and compares the zips.
func TestBuildRefusesAMalformedX(t *testing.T) {
	for _, x := range []string{"main.version", "=1", "main.version=1 -extld=evil", `main.version="1"`} {
		if _, err := Build(context.Background(), t.TempDir(), "./x", t.TempDir(), "x.zip", x); err == nil {
			t.Errorf("-X %q accepted", x)
		}
	}
}

func TestRotatorBuildsAreIdentical(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the rotator twice")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var zips [2][]byte
	for i := range zips {
		out := t.TempDir()
		r, err := Build(context.Background(), root, "./functions/rotator", out, "rotator.zip", "main.version=0.0.0-lambdazip-test")
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
		t.Logf("build %d: %d bytes", i+1, r.ZipSize)
	}
	if !bytes.Equal(zips[0], zips[1]) {
		t.Fatal("two builds of the rotator gave different zips")
	}
}
