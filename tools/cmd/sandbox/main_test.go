package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/tools/internal/cmdtest"
	"github.com/dbvault/dbvault/tools/sandbox"
)

// Bad flags and environment are refused before anything starts.
func TestBadInput(t *testing.T) {
	refused := cmdtest.Refuses(t, run)
	refused(nil, map[string]string{"SANDBOX_ROTATIONS": "three"}, 2, "SANDBOX_ROTATIONS")
	refused([]string{"-rotations", "x"}, nil, 2, "invalid value")
	refused([]string{"-strategy", "round-robin"}, nil, 1, "strategy")
	refused([]string{"-rotations", "1"}, map[string]string{"SANDBOX_STRATEGY": "nope"}, 1, "strategy")
	refused([]string{"-rotations", "0"}, nil, 2, "expected at least 1")
	refused([]string{"-rotations", "-2"}, nil, 2, "expected at least 1")
	refused(nil, map[string]string{"SANDBOX_ROTATIONS": "0"}, 2, "expected at least 1")
	refused(nil, map[string]string{"SANDBOX_MYSQL_DSN": "not a dsn"}, 1, "DSN")
}

// The sandbox uses the server SANDBOX_MYSQL_DSN names, else the one that
// answers on 127.0.0.1:3306, else the embedded one, and says which.
func TestChooseDatabase(t *testing.T) {
	old := findLocal
	t.Cleanup(func() { findLocal = old })
	findLocal = func(context.Context) error { return nil }
	if dsn, line := chooseDatabase(context.Background(), ""); dsn != sandbox.LocalDSN || !strings.Contains(line, "MariaDB on 127.0.0.1:3306") {
		t.Errorf("local server: %q, %q", dsn, line)
	}
	if dsn, line := chooseDatabase(context.Background(), "u:p@tcp(db:3306)/"); dsn != "u:p@tcp(db:3306)/" || strings.Contains(line, "u:p") {
		t.Errorf("named server: %q, %q (the line must not show the DSN, it may hold a password)", dsn, line)
	}
	if dsn, line := chooseDatabase(context.Background(), "embedded"); dsn != "" || !strings.Contains(line, "embedded") {
		t.Errorf("embedded: %q, %q", dsn, line)
	}
	findLocal = func(context.Context) error { return errors.New("connection refused") }
	if dsn, line := chooseDatabase(context.Background(), ""); dsn != "" || !strings.Contains(line, "no MySQL or MariaDB answers as root on 127.0.0.1:3306 (connection refused): using the embedded") {
		t.Errorf("no local server: %q, %q", dsn, line)
	}
}
