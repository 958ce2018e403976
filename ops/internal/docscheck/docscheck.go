// Package docscheck checks that the documentation tells the truth about the
// repository: every mage target, `go run` package and flag it shows exists,
// and every relative link resolves. Its tests run it over README.md,
// docs/*.md, docs/*/*.md and stacks/*/README.md, compare docs/policy.md's
// rules table with the policy catalog, and the configuration tables with
// the layers' declarations.
package docscheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Docs are the documentation files checked, relative to root: README.md,
// docs/*.md, docs/*/*.md and stacks/*/README.md.
func Docs(root string) ([]string, error) {
	var out []string
	for _, pat := range []string{"README.md", "docs/*.md", "docs/*/*.md", "stacks/*/README.md"} {
		m, err := filepath.Glob(filepath.Join(root, pat))
		if err != nil {
			return nil, err
		}
		for _, f := range m {
			rel, err := filepath.Rel(root, f)
			if err != nil {
				return nil, err
			}
			out = append(out, filepath.ToSlash(rel))
		}
	}
	sort.Strings(out)
	return out, nil
}

// aliasNames are the keys of magefile.go's `var Aliases = map[string]...{}`:
// names mage runs as the targets they stand for, though -l does not list them.
func aliasNames(vs *ast.ValueSpec) []string {
	var names []string
	for i, n := range vs.Names {
		if n.Name != "Aliases" || i >= len(vs.Values) {
			continue
		}
		lit, ok := vs.Values[i].(*ast.CompositeLit)
		if !ok {
			continue
		}
		for _, e := range lit.Elts {
			if kv, ok := e.(*ast.KeyValueExpr); ok {
				if k, ok := kv.Key.(*ast.BasicLit); ok && k.Kind == token.STRING {
					if name, err := strconv.Unquote(k.Value); err == nil {
						names = append(names, name)
					}
				}
			}
		}
	}
	return names
}

// MageTargets are the targets `go run mage.go -l` lists, and the aliases, read from the
// magefiles at root (the files with the `mage` build tag) and from targets/,
// the package magefile.go imports into the root namespace: every exported
// function without a receiver (`deployAll`), and every exported method of a
// type declared as mg.Namespace (`up:database`). Names are mage's: the
// first letter lower-cased, namespaces and methods joined by a colon.
func MageTargets(root string) (map[string]bool, error) {
	files, err := filepath.Glob(filepath.Join(root, "*.go"))
	if err != nil {
		return nil, err
	}
	imported, err := filepath.Glob(filepath.Join(root, "targets", "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	namespaces := map[string]bool{}
	type method struct{ recv, name string }
	var funcs, aliases []string
	var methods []method
	for _, f := range append(files, imported...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f) // #nosec G304 -- the repository's own magefiles
		if err != nil {
			return nil, err
		}
		if filepath.Dir(f) == root && !strings.HasPrefix(string(src), "//go:build mage") {
			continue
		}
		file, err := parser.ParseFile(fset, f, src, 0)
		if err != nil {
			return nil, err
		}
		for _, d := range file.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if vs, ok := s.(*ast.ValueSpec); ok {
						aliases = append(aliases, aliasNames(vs)...)
						continue
					}
					ts, ok := s.(*ast.TypeSpec)
					if !ok {
						continue
					}
					if sel, ok := ts.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Namespace" {
						if x, ok := sel.X.(*ast.Ident); ok && x.Name == "mg" {
							namespaces[ts.Name.Name] = true
						}
					}
				}
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				if d.Recv == nil {
					funcs = append(funcs, d.Name.Name)
					continue
				}
				if len(d.Recv.List) == 1 {
					if id, ok := d.Recv.List[0].Type.(*ast.Ident); ok {
						methods = append(methods, method{id.Name, d.Name.Name})
					}
				}
			}
		}
	}
	targets := map[string]bool{}
	for _, f := range funcs {
		targets[lowerFirst(f)] = true
	}
	for _, a := range aliases {
		targets[a] = true
	}
	for _, m := range methods {
		if namespaces[m.recv] {
			targets[lowerFirst(m.recv)+":"+lowerFirst(m.name)] = true
		}
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("no mage targets found in %s", root)
	}
	return targets, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

// flagMethods are the flag package's definers: the flag's name is the
// first argument, or the second for the *Var forms.
var flagMethods = map[string]int{
	"Bool": 0, "BoolFunc": 0, "Duration": 0, "Float64": 0, "Func": 0, "Int": 0, "Int64": 0,
	"String": 0, "Uint": 0, "Uint64": 0,
	"BoolVar": 1, "DurationVar": 1, "Float64Var": 1, "IntVar": 1, "Int64Var": 1, "StringVar": 1,
	"TextVar": 1, "UintVar": 1, "Uint64Var": 1, "Var": 1,
}

// Flags are the flags the command in dir defines, read from its non-test Go
// files: calls of the flag package's definers on the package itself (flag)
// or on a FlagSet (a variable assigned flag.NewFlagSet, or a parameter of
// type *flag.FlagSet). ok is false when dir defines no flag at all.
func Flags(dir string) (flags map[string]bool, ok bool, err error) {
	files, err := goFiles(dir, 0)
	if err != nil {
		return nil, false, err
	}
	flags = map[string]bool{}
	for _, file := range files {
		sets := map[string]bool{"flag": true}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				for i, rhs := range n.Rhs {
					if isNewFlagSet(rhs) && i < len(n.Lhs) {
						if id, ok := n.Lhs[i].(*ast.Ident); ok {
							sets[id.Name] = true
						}
					}
				}
			case *ast.ValueSpec:
				for i, v := range n.Values {
					if isNewFlagSet(v) && i < len(n.Names) {
						sets[n.Names[i].Name] = true
					}
				}
			case *ast.Field:
				if star, ok := n.Type.(*ast.StarExpr); ok {
					if sel, ok := star.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "FlagSet" {
						for _, name := range n.Names {
							sets[name.Name] = true
						}
					}
				}
			}
			return true
		})
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			recv, ok := sel.X.(*ast.Ident)
			if !ok || !sets[recv.Name] {
				return true
			}
			i, ok := flagMethods[sel.Sel.Name]
			if !ok || len(call.Args) <= i {
				return true
			}
			if lit, ok := call.Args[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					flags[s] = true
				}
			}
			return true
		})
	}
	return flags, len(flags) > 0, nil
}

func isNewFlagSet(e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "NewFlagSet" {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == "flag"
}

// Snippet is code shown in a document: an inline code span or one line of a
// fenced block.
type Snippet struct {
	Line int
	Text string
}

// Doc is a Markdown document split into its code and its prose.
type Doc struct {
	// Code is every code span and every line of every fenced block.
	Code []Snippet
	// Prose is the text outside code (code replaced by spaces, so links
	// inside code are not links), line by line.
	Prose []string
	// Headings are the document's headings outside fenced blocks.
	Headings []string
	// Anchors are explicit HTML anchors (<a id="..."> or name=).
	Anchors []string
}

var (
	fenceRe     = regexp.MustCompile("^\\s*(```|~~~)")
	headingRe   = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	htmlAnchor  = regexp.MustCompile(`<a\s+(?:id|name)="([^"]+)"`)
	doubleTicks = regexp.MustCompile("``(.+?)``")
	singleTicks = regexp.MustCompile("`([^`]+)`")
)

// Parse splits a Markdown document.
func Parse(text string) Doc {
	var d Doc
	lines := strings.Split(text, "\n")
	inFence := false
	var prose []string // the prose lines, fences blanked
	for i, l := range lines {
		if fenceRe.MatchString(l) {
			inFence = !inFence
			prose = append(prose, "")
			continue
		}
		if inFence {
			d.Code = append(d.Code, Snippet{Line: i + 1, Text: l})
			prose = append(prose, "")
			continue
		}
		if m := headingRe.FindStringSubmatch(l); m != nil {
			d.Headings = append(d.Headings, m[1])
		}
		for _, m := range htmlAnchor.FindAllStringSubmatch(l, -1) {
			d.Anchors = append(d.Anchors, m[1])
		}
		prose = append(prose, l)
	}
	// Code spans may wrap lines: find them in the joined prose, then blank
	// them out of it.
	joined := strings.Join(prose, "\n")
	blank := func(re *regexp.Regexp, s string) string {
		return re.ReplaceAllStringFunc(s, func(m string) string {
			start := strings.Index(joined, m)
			line := 1
			if start >= 0 {
				line = strings.Count(joined[:start], "\n") + 1
			}
			inner := re.FindStringSubmatch(m)[1]
			d.Code = append(d.Code, Snippet{Line: line, Text: strings.ReplaceAll(inner, "\n", " ")})
			return strings.Map(func(r rune) rune {
				if r == '\n' {
					return r
				}
				return ' '
			}, m)
		})
	}
	joined = blank(doubleTicks, joined)
	joined = blank(singleTicks, joined)
	d.Prose = strings.Split(joined, "\n")
	sort.SliceStable(d.Code, func(i, j int) bool { return d.Code[i].Line < d.Code[j].Line })
	return d
}

// Slug is GitHub's anchor for a heading: lower case, code marks and
// punctuation other than '-' and '_' dropped, spaces as '-'.
func Slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

// anchors are a document's link targets: its headings' slugs (a repeated
// heading gets -1, -2, ...) and its explicit anchors.
func (d Doc) anchors() map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, h := range d.Headings {
		s := Slug(h)
		if n := seen[s]; n > 0 {
			out[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	for _, a := range d.Anchors {
		out[a] = true
	}
	return out
}

// Command is a command shown in a document.
type Command struct {
	Line int
	// Kind is "mage" (Args are targets), "run" (Path is a package, Args
	// its arguments) or "pkg" (go test/build/vet: Path is a pattern).
	Kind string
	Path string
	Args []string
}

var (
	mageRe = regexp.MustCompile(`(?:^|[\s(])(?:go run mage\.go|go tool mage|mage)((?:\s+[^\s]+)*)`)
	runRe  = regexp.MustCompile(`(?:^|[\s(])go run (\./[^\s]+)((?:\s+[^\s]+)*)`)
	pkgRe  = regexp.MustCompile(`(?:^|[\s(])go (?:test|build|vet)((?:\s+[^\s]+)*)`)
	// cut ends a command: a comment, a pipe, a list or the end of a span.
	cutRe = regexp.MustCompile("`|#|;|&&|\\|\\||\\s\\|\\s|[(),]|<br")
)

func cut(s string) []string {
	if loc := cutRe.FindStringIndex(s); loc != nil {
		s = s[:loc[0]]
	}
	var out []string
	for _, t := range strings.Fields(s) {
		if strings.HasPrefix(t, ">") || strings.HasPrefix(t, "2>") || (strings.HasPrefix(t, "<") && !strings.HasSuffix(t, ">")) {
			break
		}
		out = append(out, t)
	}
	return out
}

// Commands are the commands in a document's code.
func (d Doc) Commands() []Command {
	var out []Command
	for _, s := range d.Code {
		text := s.Text
		for _, m := range mageRe.FindAllStringSubmatchIndex(text, -1) {
			// "go run mage.go" also matches the bare "mage" alternative
			// inside it only at "mage.go", which the regexp does not
			// allow (mage must be followed by space); nothing to do.
			out = append(out, Command{Line: s.Line, Kind: "mage", Args: cut(text[m[2]:m[3]])})
		}
		for _, m := range runRe.FindAllStringSubmatchIndex(text, -1) {
			path := strings.TrimRight(text[m[2]:m[3]], "`.,)")
			out = append(out, Command{Line: s.Line, Kind: "run", Path: path, Args: cut(text[m[4]:m[5]])})
		}
		for _, m := range pkgRe.FindAllStringSubmatchIndex(text, -1) {
			for _, a := range cut(text[m[2]:m[3]]) {
				if strings.HasPrefix(a, "./") {
					out = append(out, Command{Line: s.Line, Kind: "pkg", Path: a})
				}
			}
		}
	}
	return out
}

// Link is a relative Markdown link.
type Link struct {
	Line   int
	Target string
}

var linkRe = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

// Links are the relative links of the document's prose (links to other
// sites and mail addresses left out).
func (d Doc) Links() []Link {
	var out []Link
	for i, l := range d.Prose {
		for _, m := range linkRe.FindAllStringSubmatch(l, -1) {
			t := m[1]
			if strings.Contains(t, "://") || strings.HasPrefix(t, "mailto:") {
				continue
			}
			out = append(out, Link{Line: i + 1, Target: t})
		}
	}
	return out
}

// Checker checks documents against a repository.
type Checker struct {
	Root    string
	Targets map[string]bool
	// Misspelt are target names a document shows on purpose although they
	// do not exist (the example of mage's "Did you mean" answer).
	Misspelt map[string]bool
	flags    map[string]map[string]bool
	docs     map[string]Doc
}

// NewChecker reads the mage targets at root.
func NewChecker(root string) (*Checker, error) {
	t, err := MageTargets(root)
	if err != nil {
		return nil, err
	}
	return &Checker{Root: root, Targets: t, Misspelt: map[string]bool{}, flags: map[string]map[string]bool{}, docs: map[string]Doc{}}, nil
}

func (c *Checker) doc(rel string) (Doc, error) {
	if d, ok := c.docs[rel]; ok {
		return d, nil
	}
	b, err := os.ReadFile(filepath.Join(c.Root, filepath.FromSlash(rel))) // #nosec G304 -- the repository's own documents
	if err != nil {
		return Doc{}, err
	}
	d := Parse(string(b))
	c.docs[rel] = d
	return d, nil
}

// CheckText checks text as the document at rel (relative to Root).
func (c *Checker) CheckText(rel, text string) ([]string, error) {
	c.docs[rel] = Parse(text)
	return c.Check(rel)
}

// Check returns every problem of document rel (relative to Root), each as
// "file:line: what".
func (c *Checker) Check(rel string) ([]string, error) {
	d, err := c.doc(rel)
	if err != nil {
		return nil, err
	}
	var problems []string
	add := func(line int, format string, a ...any) {
		problems = append(problems, fmt.Sprintf("%s:%d: %s", rel, line, fmt.Sprintf(format, a...)))
	}
	for _, cmd := range d.Commands() {
		switch cmd.Kind {
		case "mage":
			for _, a := range cmd.Args {
				if strings.HasPrefix(a, "-") || strings.Contains(a, "=") {
					continue // mage's own flags (-l, -v), variables
				}
				a = strings.TrimRight(a, ".:")
				if c.Misspelt[a] {
					continue
				}
				if ns, rest, ok := strings.Cut(a, ":"); ok && strings.HasPrefix(rest, "<") {
					if !c.namespace(ns) {
						add(cmd.Line, "mage target namespace %q does not exist (go run mage.go -l)", ns)
					}
					continue
				}
				if strings.HasPrefix(a, "<") || a == "" {
					continue // a placeholder
				}
				if !c.Targets[a] {
					add(cmd.Line, "mage target %q does not exist (go run mage.go -l)", a)
				}
			}
		case "run":
			dir := filepath.Join(c.Root, filepath.FromSlash(cmd.Path))
			if !isMain(dir) {
				add(cmd.Line, "go run %s: no command (package main) in that directory", cmd.Path)
				continue
			}
			flags, err := c.flagsOf(dir)
			if err != nil {
				return nil, err
			}
			for _, a := range cmd.Args {
				a = strings.Trim(a, "[]")
				if len(a) < 2 || a[0] != '-' || !(unicode.IsLetter(rune(strings.TrimLeft(a, "-")[0]))) {
					continue
				}
				name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
				if name == "h" || name == "help" {
					continue
				}
				if !flags[name] {
					add(cmd.Line, "go run %s: flag -%s is not defined by the command", cmd.Path, name)
				}
			}
		case "pkg":
			p := strings.TrimSuffix(strings.TrimSuffix(cmd.Path, "..."), "/")
			if fi, err := os.Stat(filepath.Join(c.Root, filepath.FromSlash(p))); err != nil || !fi.IsDir() {
				add(cmd.Line, "package %s does not exist", cmd.Path)
			}
		}
	}
	for _, l := range d.Links() {
		path, anchor, _ := strings.Cut(l.Target, "#")
		target := rel
		if path != "" {
			target = filepath.ToSlash(filepath.Join(filepath.Dir(rel), filepath.FromSlash(path)))
			if _, err := os.Stat(filepath.Join(c.Root, filepath.FromSlash(target))); err != nil {
				add(l.Line, "link %s: %s does not exist", l.Target, target)
				continue
			}
		}
		if anchor == "" || !strings.HasSuffix(target, ".md") {
			continue
		}
		td, err := c.doc(target)
		if err != nil {
			return nil, err
		}
		if !td.anchors()[anchor] {
			add(l.Line, "link %s: %s has no heading #%s", l.Target, target, anchor)
		}
	}
	return problems, nil
}

func (c *Checker) namespace(ns string) bool {
	for t := range c.Targets {
		if strings.HasPrefix(t, ns+":") {
			return true
		}
	}
	return false
}

func (c *Checker) flagsOf(dir string) (map[string]bool, error) {
	if f, ok := c.flags[dir]; ok {
		return f, nil
	}
	f, _, err := Flags(dir)
	if err != nil {
		return nil, err
	}
	c.flags[dir] = f
	return f, nil
}

// isMain reports whether dir holds a command: a non-test Go file of package
// main.
func isMain(dir string) bool {
	files, err := goFiles(dir, parser.PackageClauseOnly)
	if err != nil {
		return false
	}
	for _, f := range files {
		if f.Name.Name == "main" {
			return true
		}
	}
	return false
}

// goFiles parses the non-test Go files of dir.
func goFiles(dir string, mode parser.Mode) ([]*ast.File, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var out []*ast.File
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, mode)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}
