package testdb

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TLSServer is a MariaDB started by a test with TLS on, its certificates
// made by the test: a CA and a server certificate for the name "localhost"
// only (not 127.0.0.1), so a test can show that the host name is verified.
type TLSServer struct {
	// Addr is 127.0.0.1:port.
	Addr string
	// Port is the TCP port.
	Port int
	// CAFile is the PEM file of the CA that signed the server's certificate.
	CAFile string
	// OtherCAFile is the PEM file of a CA that signed nothing here.
	OtherCAFile string
	// Root is a root session over the unix socket.
	Root *sql.DB
}

// StartTLSServer starts a TLS-enabled mariadbd in a temporary directory and
// stops it when the test ends. Without the MariaDB server binaries the test
// is skipped, unless CI is set.
func StartTLSServer(t testing.TB) *TLSServer {
	t.Helper()
	install, err1 := exec.LookPath("mariadb-install-db")
	mariadbd, err2 := exec.LookPath("mariadbd")
	if err2 != nil {
		if p := "/usr/sbin/mariadbd"; fileExists(p) {
			mariadbd, err2 = p, nil
		}
	}
	if err1 != nil || err2 != nil {
		if os.Getenv("CI") == "" {
			t.Skip("mariadb-install-db or mariadbd not found (CI unset)")
		}
		t.Fatalf("mariadb-install-db or mariadbd not found: %v %v", err1, err2)
	}
	dir, err := os.MkdirTemp("", "rotator-tls-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	s := &TLSServer{CAFile: filepath.Join(dir, "ca.pem"), OtherCAFile: filepath.Join(dir, "other-ca.pem")}
	certFile, keyFile := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	makeCerts(t, s.CAFile, s.OtherCAFile, certFile, keyFile)

	data := filepath.Join(dir, "data")
	args := []string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal", "--skip-test-db"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	// #nosec G204 -- test helper: the binary comes from PATH, the arguments from the test.
	if out, err := exec.Command(install, args...).CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	s.Port = freePort(t)
	s.Addr = "127.0.0.1:" + strconv.Itoa(s.Port)
	sock := filepath.Join(dir, "mysqld.sock")
	dargs := []string{"--no-defaults", "--datadir=" + data, "--socket=" + sock,
		"--port=" + strconv.Itoa(s.Port), "--bind-address=127.0.0.1", "--skip-log-bin",
		"--innodb-buffer-pool-size=16M",
		"--ssl-ca=" + s.CAFile, "--ssl-cert=" + certFile, "--ssl-key=" + keyFile,
		"--pid-file=" + filepath.Join(dir, "mysqld.pid"), "--log-error=" + filepath.Join(dir, "error.log")}
	if os.Geteuid() == 0 {
		dargs = append(dargs, "--user=root")
	}
	cmd := exec.Command(mariadbd, dargs...) // #nosec G204 -- as above
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mariadbd: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("unix", sock, time.Second)
		if err == nil {
			_ = c.Close()
			break
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log")) // #nosec G304 -- the test's own temporary directory
			t.Fatalf("mariadbd exited:\n%s", log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("mariadbd did not start within 30s")
		}
	}
	s.Root = RootAt(t, "unix", sock)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var have string
	if err := s.Root.QueryRowContext(ctx, "SELECT @@have_ssl").Scan(&have); err != nil || have != "YES" {
		t.Fatalf("the test server has no TLS (have_ssl=%q, %v)", have, err)
	}
	return s
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

func makeCerts(t testing.TB, caFile, otherCAFile, certFile, keyFile string) {
	t.Helper()
	ca, caKey := newCA(t, "rotator test CA")
	writePEM(t, caFile, "CERTIFICATE", ca.Raw)
	other, _ := newCA(t, "unrelated CA")
	writePEM(t, otherCAFile, "CERTIFICATE", other.Raw)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, certFile, "CERTIFICATE", der)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, keyFile, "PRIVATE KEY", kder)
}

func newCA(t testing.TB, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
