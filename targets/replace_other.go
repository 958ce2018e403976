//go:build !unix

package targets

// replaceWith runs bin as a child where exec cannot replace a process.
func replaceWith(bin string, args []string) error {
	return runChild(bin, args)
}
