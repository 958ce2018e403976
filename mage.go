//go:build ignore

// mage.go lets `go run mage.go <target>` work on a machine that has only Go:
// mage itself is pinned in go.mod as a tool, so nothing has to be installed
// first.
//
// It runs the targets from a binary that mage compiles for the sources as
// they are, kept in mage's cache under the hash of those sources, and adds:
//
//   - a bare `go run mage.go` lists the targets (-l) instead of running one;
//   - when the binary is not there yet, it says so on stderr before mage
//     compiles it;
//   - an unknown target is answered with the nearest targets' names instead
//     of mage's bare `Unknown target specified: "x"`.
//
// It imports the standard library only, so that on a machine with an empty
// Go build cache `go run` compiles it in seconds and its first line comes
// before mage and the targets are compiled. Flags other than -l, -h and -v
// go to mage itself (`go tool mage`). `go run` adds one last line, `exit
// status N`, and exits 1 whenever mage.go does not exit 0 (cmd/go does not
// pass the code on); `go tool mage <target>` keeps the code and adds
// nothing, without the suggestions.
package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		args = []string{"-l"}
	}
	// The targets handle Ctrl-C themselves (they stop what they started);
	// this process waits for them and passes their exit code on. Notify,
	// not Ignore: an ignored signal would stay ignored in the children.
	signal.Notify(make(chan os.Signal, 1), os.Interrupt)
	f := &unknownFilter{w: os.Stderr}
	var code int
	exe, err := cachedBinary()
	if err == nil && binaryFlagsOnly(args) {
		code = runCompiled(exe, args, f)
	} else {
		code = run(f, "go", append([]string{"tool", "mage"}, args...)...)
	}
	f.flush()
	if code == 2 && f.target != "" {
		suggest(exe, f.target)
	}
	os.Exit(code)
}

// runCompiled runs the targets' binary exe, compiling it first (mage
// -compile) when the cache lacks it. mage itself, with a Go build cache,
// parses the targets and runs `go build` on every call, which costs seconds
// before any target starts; this costs a hash of a few files.
func runCompiled(exe string, args []string, f *unknownFilter) int {
	if _, err := os.Stat(exe); err != nil {
		f.notice(compilingNotice)
		if code := run(f, "go", "tool", "mage", "-compile", exe); code != 0 {
			return code
		}
	}
	return run(f, exe, args...)
}

// run runs a command with this process's streams, stderr through f, and
// returns its exit code.
func run(f *unknownFilter, name string, args ...string) int {
	cmd := exec.Command(name, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, f
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.ExitCode() > 0:
		return ee.ExitCode()
	case errors.As(err, &ee):
		// Ended by a signal (a closed pipe, Ctrl-C), as a shell reports it.
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return 1
	default:
		f.notice(fmt.Sprintf("mage.go: %v\n", err))
		return 1
	}
}

// binaryFlagsOnly reports whether args are targets and their arguments,
// with no flag but those the compiled binary knows (-l, -h, -v).
func binaryFlagsOnly(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, "-") && a != "-l" && a != "-h" && a != "-v" {
			return false
		}
	}
	return true
}

// suggest answers an unknown target with the nearest ones among those the
// targets' binary exe lists (none when there is no binary).
func suggest(exe, target string) {
	var list bytes.Buffer
	if exe != "" {
		cmd := exec.Command(exe, "-l")
		cmd.Stdout = &list
		_ = cmd.Run()
	}
	fmt.Fprintf(os.Stderr, "Unknown target %q.%s\nEvery target: go run mage.go -l\n", target, suggestion(target, targets(list.String())))
}

// cachedBinary is where the targets' binary for the sources as they are is
// kept: mage's cache folder, in a folder named by the hash of everything it
// is built from (magefile.go, the package targets, the only package
// magefile.go imports besides mage, go.mod and go.sum, which pin mage, and
// the Go version). The binary is named mage because mage writes its name
// into the targets' help (`Usage: mage up:network`).
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
	return filepath.Join(cacheDir(), fmt.Sprintf("dbvault-targets-%x", h.Sum(nil)), "mage"), nil
}

// cacheDir is mage's cache folder, as mage's mg.CacheDir finds it.
func cacheDir() string {
	if d := os.Getenv("MAGEFILE_CACHE"); d != "" {
		return d
	}
	if runtime.GOOS == "windows" {
		return filepath.Join(os.Getenv("HOMEDRIVE"), os.Getenv("HOMEPATH"), "magefile")
	}
	return filepath.Join(os.Getenv("HOME"), ".magefile")
}

const unknownPrefix = "Unknown target"

// compilingNotice is said when mage compiles the targets first; the
// time is measured on a 2-core machine with an empty Go build cache,
// after `go run` has compiled mage.go itself.
const compilingNotice = "mage: compiling the targets (first run only, about 10 s) ...\n"

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
