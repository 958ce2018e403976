//go:build !failpoints

package failpoint

// Enabled reports whether this binary was built with the failpoints tag.
const Enabled = false

// Hit marks that the rotator reached the named point. Without the failpoints
// build tag it does nothing.
func Hit(string) {}
