//go:build !failpoints

package checkpoint

// Enabled reports whether this binary was built with the failpoints tag.
const Enabled = false

// exitIfNamed does nothing without the failpoints build tag.
func exitIfNamed(string) {}
