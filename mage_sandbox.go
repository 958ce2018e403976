//go:build mage

package main

// Sandbox rotates a real database user's password N times locally, no AWS account needed.
func Sandbox() error {
	return goRun("./tools/cmd/sandbox")
}
