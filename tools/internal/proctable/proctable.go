// Package proctable reads the process table that Linux shows in /proc:
// each process's state, parent and process group. The Lambda harness
// waits on it for a stopped function's processes to end, and tests read it
// to find the processes a command left behind.
package proctable

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Process is one process of the table.
type Process struct {
	PID, PPID, PGID int
	// State is the state letter of proc(5): R running, S sleeping, Z a
	// zombie, X dead, ...
	State byte
}

// Running reports whether the process has not run its course: a zombie
// (only its parent or init can reap it) or a dead process does not run.
func (p Process) Running() bool { return p.State != 'Z' && p.State != 'X' }

// ErrNoProc is All's error where there is no /proc to read.
var ErrNoProc = errors.New("no process table in /proc")

// All returns every process in /proc. A process that ends while the table
// is read is left out.
func All() ([]Process, error) {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		return nil, ErrNoProc
	}
	var out []Process
	for _, path := range stats {
		stat, err := os.ReadFile(path) // #nosec G304 -- a /proc/<pid>/stat file the glob found
		if err != nil {
			continue // the process ended while we looked
		}
		if p, err := parse(string(stat)); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// Read returns process pid.
func Read(pid int) (Process, error) {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return Process{}, err
	}
	return parse(string(stat))
}

// Cmdline is process pid's command line, its arguments separated by spaces.
func Cmdline(pid int) string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " ")
}

// parse reads a stat line: "pid (comm) state ppid pgrp ...". The command
// name may hold spaces and parentheses, so the fields are read after the
// last ')'.
func parse(stat string) (Process, error) {
	open, end := strings.IndexByte(stat, '('), strings.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return Process{}, fmt.Errorf("stat line %q: no command name", stat)
	}
	f := strings.Fields(stat[end+1:])
	if len(f) < 3 || len(f[0]) != 1 {
		return Process{}, fmt.Errorf("stat line %q: too short", stat)
	}
	p := Process{State: f[0][0]}
	var errs [3]error
	p.PID, errs[0] = strconv.Atoi(strings.TrimSpace(stat[:open]))
	p.PPID, errs[1] = strconv.Atoi(f[1])
	p.PGID, errs[2] = strconv.Atoi(f[2])
	if err := errors.Join(errs[:]...); err != nil {
		return Process{}, fmt.Errorf("stat line %q: %w", stat, err)
	}
	return p, nil
}
