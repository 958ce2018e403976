package proctable

import (
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestReadsThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	me, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if me.PID != os.Getpid() || me.PPID != os.Getppid() || me.PGID != syscall.Getpgrp() || !me.Running() {
		t.Errorf("this process reads as %+v", me)
	}
	all, err := All()
	if err != nil || !slices.ContainsFunc(all, func(p Process) bool { return p.PID == me.PID }) {
		t.Errorf("All (%v) lacks this process", err)
	}
	if !strings.Contains(Cmdline(os.Getpid()), os.Args[0]) {
		t.Errorf("command line %q lacks %q", Cmdline(os.Getpid()), os.Args[0])
	}
}

// A command name may hold spaces and parentheses.
func TestParse(t *testing.T) {
	p, err := parse("42 (a (b) c) Z 7 9 9 0 -1")
	if err != nil || p != (Process{PID: 42, PPID: 7, PGID: 9, State: 'Z'}) || p.Running() {
		t.Errorf("%+v %v", p, err)
	}
	for _, bad := range []string{"", "42 comm S 1 1", "42 (x) S 1", "x (y) S 1 1"} {
		if _, err := parse(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
