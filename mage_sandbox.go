//go:build mage

package main

// Sandbox rotates a real database user's password N times locally, no AWS account needed.
func Sandbox() error {
	return goRun("./tools/cmd/sandbox")
}

// Chaos runs rotations under injected faults and checks the invariants (CHAOS_SEED, CHAOS_ROTATIONS).
func Chaos() error {
	return goRun("./tools/cmd/chaos")
}
