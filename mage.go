//go:build ignore

// mage.go lets `go run mage.go <target>` work on a machine that has only Go:
// mage itself is pinned in go.mod, so nothing has to be installed first.
//
// It is mage's own main with three additions:
//
//   - a bare `go run mage.go` lists the targets (-l) instead of running one;
//   - targets named without flags run at once from a binary compiled for
//     the sources as they are (runCached), compiled first when there is
//     none, and it says so on stderr before it compiles;
//   - an unknown target is answered with the nearest targets' names instead
//     of mage's bare `Unknown target specified: "x"`.
//
// Everything else, -l included, is mage's. `go run` itself adds one last line, `exit status N`, and exits 1
// whenever mage.go does not exit 0 (cmd/go does not pass the code on);
// `go tool mage <target>` keeps the code and adds nothing, without the
// suggestions.
package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/magefile/mage/mage"
	"github.com/magefile/mage/mg"
)

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		args = []string{"-l"}
	}
	f := &unknownFilter{w: os.Stderr}
	code, ok := runCached(args, f)
	if ok {
		f.flush()
		suggest(code, f)
		os.Exit(code)
	}
	if runsTarget(args) {
		// Concurrently: a warm run does not wait for the check, and a cold
		// one is still compiling when the answer comes.
		go func() {
			if mustCompile() {
				f.notice(compilingNotice)
			}
		}()
	}
	code = mage.ParseAndRun(os.Stdout, f, os.Stdin, args)
	f.flush()
	suggest(code, f)
	os.Exit(code)
}

// suggest answers an unknown target with the nearest ones.
func suggest(code int, f *unknownFilter) {
	if code == 2 && f.target != "" {
		var list bytes.Buffer
		mage.ParseAndRun(&list, io.Discard, os.Stdin, []string{"-l"})
		fmt.Fprintf(os.Stderr, "Unknown target %q.%s\nEvery target: go run mage.go -l\n", f.target, suggestion(f.target, targets(list.String())))
	}
}

// runCached runs targets named without flags (`go run mage.go sandbox`)
// with the targets' binary compiled for the sources as they are, compiling
// it first (mage -compile) when the cache lacks it. mage itself, with a Go
// build cache, parses the targets and runs `go build` on every call, which
// costs seconds before any target starts; this costs a hash of a few
// files. The binary's name is the hash of everything it is built from:
// magefile.go, the package targets (the only package magefile.go imports
// besides mage), go.mod and go.sum (mage's version) and the Go version.
// ok is false when it did not run (flags, or no hash).
func runCached(args []string, f *unknownFilter) (code int, ok bool) {
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			return 0, false
		}
	}
	exe, err := cachedBinary()
	if err != nil {
		return 0, false
	}
	if _, err := os.Stat(exe); err != nil {
		f.notice(compilingNotice)
		if code := mage.ParseAndRun(os.Stdout, f, os.Stdin, []string{"-compile", exe}); code != 0 {
			return code, true
		}
	}
	inv := mage.Invocation{Dir: ".", WorkDir: ".", Args: args, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: f}
	return mage.RunCompiled(inv, exe, log.New(f, "", 0)), true
}

// cachedBinary is where runCached keeps the targets' binary for the
// sources as they are: mage's cache folder, named by their hash.
func cachedBinary() (string, error) {
	files, err := filepath.Glob(filepath.Join("targets", "*.go"))
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	for _, name := range append([]string{"magefile.go", "go.mod", "go.sum"}, files...) {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name) // #nosec G304 -- the repository's own sources
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	return filepath.Join(mg.CacheDir(), fmt.Sprintf("dbvault-%x", h.Sum(nil))), nil
}

const unknownPrefix = "Unknown target"

// compilingNotice is said when mage compiles the targets first; the
// time is measured on a 2-core machine with an empty Go build cache,
// after `go run` has compiled mage.go itself.
const compilingNotice = "mage: compiling the targets (first run only, about 5 s) ...\n"

// runsTarget reports whether mage will compile and run a target: not for
// the flags that only read the magefile (-l, -h, -version, ...).
func runsTarget(args []string) bool {
	for _, a := range args {
		switch strings.TrimLeft(a, "-") {
		case "l", "h", "help", "version", "init", "clean":
			if strings.HasPrefix(a, "-") {
				return false
			}
		}
	}
	return true
}

// mustCompile reports whether mage will compile before it runs a target:
// its binary for magefile.go is not in its cache (mage names it by the
// hash of the magefile, as mage.ExeName computes), or the Go build cache
// does not hold the targets package as it is (a fresh clone, a new
// GOCACHE, a changed target), which mage's hash does not see.
func mustCompile() bool {
	exe, err := mage.ExeName("go", mg.CacheDir(), []string{"magefile.go"})
	if err != nil {
		return false
	}
	if _, err := os.Stat(exe); err != nil {
		return true
	}
	out, err := exec.Command("go", "list", "-f", "{{.Stale}}", "./targets").Output()
	return err == nil && strings.TrimSpace(string(out)) == "true"
}

// unknownFilter passes mage's stderr through as it comes (prompts without
// a newline included), except the line `Unknown target: "x"`, whose target
// it keeps.
type unknownFilter struct {
	w       io.Writer
	mu      sync.Mutex
	buf     []byte
	midLine bool
	target  string
}

func (f *unknownFilter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buf = append(f.buf, p...)
	for len(f.buf) > 0 {
		nl := bytes.IndexByte(f.buf, '\n')
		n := min(len(f.buf), len(unknownPrefix))
		if f.midLine || string(f.buf[:n]) != unknownPrefix[:n] {
			if nl < 0 {
				_, _ = f.w.Write(f.buf)
				f.buf, f.midLine = f.buf[:0], true
				break
			}
			_, _ = f.w.Write(f.buf[:nl+1])
			f.buf, f.midLine = f.buf[nl+1:], false
			continue
		}
		if nl < 0 {
			break // maybe the message: wait for its end
		}
		line := string(f.buf[:nl])
		_, quoted, _ := strings.Cut(line, ": ")
		if t, err := strconv.Unquote(strings.TrimSpace(quoted)); err == nil && (strings.HasPrefix(line, "Unknown target: ") || strings.HasPrefix(line, "Unknown target specified: ")) {
			f.target = t
		} else {
			_, _ = f.w.Write(f.buf[:nl+1])
		}
		f.buf = f.buf[nl+1:]
	}
	return len(p), nil
}

// notice writes a line of mage.go's own, between mage's lines.
func (f *unknownFilter) notice(line string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.midLine {
		_, _ = io.WriteString(f.w, line)
	}
}

func (f *unknownFilter) flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, _ = f.w.Write(f.buf)
	f.buf = nil
}

// targets are the names in the output of `mage -l`.
func targets(list string) []string {
	var out []string
	for _, line := range strings.Split(list, "\n") {
		if !strings.HasPrefix(line, "  ") {
			continue
		}
		if fields := strings.Fields(line); len(fields) > 0 {
			out = append(out, strings.TrimSuffix(fields[0], "*"))
		}
	}
	return out
}

// suggestion names up to three targets nearest to target (edit distance,
// case-insensitive; a target containing it counts as near).
func suggestion(target string, names []string) string {
	t := strings.ToLower(target)
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	for _, n := range names {
		l := strings.ToLower(n)
		d := distance(t, l)
		if strings.Contains(l, t) || strings.Contains(t, l) {
			d = min(d, 1)
		}
		if d <= max(2, len(t)/3) {
			cs = append(cs, cand{n, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	if len(cs) == 0 {
		return ""
	}
	if len(cs) > 3 {
		cs = cs[:3]
	}
	names = names[:0:0]
	for _, c := range cs {
		names = append(names, c.name)
	}
	return " Did you mean: " + strings.Join(names, ", ") + "?"
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
