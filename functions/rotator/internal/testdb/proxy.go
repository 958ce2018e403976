package testdb

import (
	"testing"

	"github.com/dbvault/dbvault/functions/rotator/faultproxy"
)

// Proxy starts a fault proxy in front of target and closes it when the
// test ends.
func Proxy(t testing.TB, target string) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// SetMode switches p to m and fails the test if it cannot.
func SetMode(t testing.TB, p *faultproxy.Proxy, m faultproxy.Mode) {
	t.Helper()
	if err := p.SetMode(m); err != nil {
		t.Fatal(err)
	}
}
