package main

import (
	"testing"

	"github.com/dbvault/dbvault/tools/internal/cmdtest"
)

// Bad flags and environment are refused before anything starts.
func TestBadInput(t *testing.T) {
	refused := cmdtest.Refuses(t, run)
	refused(nil, map[string]string{"CHAOS_SEED": "-1"}, 2, "CHAOS_SEED")
	refused(nil, map[string]string{"CHAOS_ROTATIONS": "many"}, 2, "CHAOS_ROTATIONS")
	refused([]string{"-strategy", "every"}, nil, 2, "-strategy")
	refused(nil, map[string]string{"CHAOS_STRATEGY": "every"}, 2, "CHAOS_STRATEGY")
	refused([]string{"-rotations", "951"}, nil, 1, "1 to 950")
	refused([]string{"-rotations", "0"}, nil, 2, "1 to 950")
	refused(nil, map[string]string{"CHAOS_ROTATIONS": "0"}, 2, "1 to 950")
}
