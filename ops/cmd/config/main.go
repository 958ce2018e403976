// Command config writes what follows from the layers' config declarations
// (stacks/<layer>/Pulumi.yaml):
//
//	go run ./ops/cmd/config configure [-env $ENV]   # stacks/<layer>/Pulumi.<env>.yaml, before the first deploy
//	go run ./ops/cmd/config docs [-check]           # the configuration tables of README.md and stacks/<layer>/README.md
//
// configure writes each layer's stack config file with every key, its
// default and its rule as comments; a file already there is kept as it is.
// docs rewrites the tables between their <!-- config:<name>:begin --> and
// end markers; -check writes nothing and fails when a table is stale.
//
// Run it from the repository (it finds the root by its go.work).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/dbvault/dbvault/ops/internal/configdecl"
	"github.com/dbvault/dbvault/ops/layers"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/tools/workspace"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "config:", err)
		os.Exit(1)
	}
}

const usage = "usage: go run ./ops/cmd/config configure [-env ENV] | docs [-check]"

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	root, err := workspace.Root()
	if err != nil {
		return err
	}
	decl, err := configdecl.LoadAll(root, layers.All)
	if err != nil {
		return err
	}
	switch args[0] {
	case "configure":
		fl := flag.NewFlagSet("configure", flag.ContinueOnError)
		env := fl.String("env", os.Getenv("ENV"), "the environment: the stack's name (Pulumi.<env>.yaml) and environmentSuffix")
		if err := fl.Parse(args[1:]); err != nil {
			return err
		}
		return configure(root, *env, decl, out)
	case "docs":
		fl := flag.NewFlagSet("docs", flag.ContinueOnError)
		check := fl.Bool("check", false, "write nothing; fail when a table differs from the declarations")
		if err := fl.Parse(args[1:]); err != nil {
			return err
		}
		return docs(root, decl, *check, out)
	}
	return fmt.Errorf("%q: %s", args[0], usage)
}

// configure writes every layer's stack file for env that is not there yet.
func configure(root, env string, decl []configdecl.Layer, out io.Writer) error {
	if env == "" {
		return errors.New("ENV is required: ENV=dev go run mage.go configure")
	}
	if err := kit.ValidateSuffix(env); err != nil {
		return fmt.Errorf("ENV: %w", err)
	}
	for _, l := range decl {
		path, err := configdecl.WriteStackFile(root, l, env)
		rel, _ := filepath.Rel(root, path)
		switch {
		case errors.Is(err, configdecl.ErrExists):
			fmt.Fprintf(out, "kept    %s: it exists, and configure never rewrites a stack's file (edit it; every key is in stacks/%s/README.md#config)\n", rel, l.Name)
		case err != nil:
			return err
		default:
			fmt.Fprintf(out, "wrote   %s (%d keys)\n", rel, len(l.Keys))
		}
	}
	fmt.Fprintf(out, "Uncomment and set the keys you choose, then check them offline: ENV=%s go run mage.go dev:audit\n", env)
	return nil
}

// docs rewrites (or with check compares) the generated tables.
func docs(root string, decl []configdecl.Layer, check bool, out io.Writer) error {
	want, err := configdecl.Docs(root, decl)
	if err != nil {
		return err
	}
	rels := make([]string, 0, len(want))
	for rel := range want {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	var stale []string
	for _, rel := range rels {
		path := filepath.Join(root, filepath.FromSlash(rel))
		have, err := os.ReadFile(path) // #nosec G304 -- the repository's own documents
		if err != nil {
			return err
		}
		if string(have) == want[rel] {
			continue
		}
		if check {
			stale = append(stale, rel)
			continue
		}
		if err := os.WriteFile(path, []byte(want[rel]), 0o644); err != nil { // #nosec G306 -- a document of the repository
			return err
		}
		fmt.Fprintf(out, "rewrote %s\n", rel)
	}
	if len(stale) > 0 {
		return fmt.Errorf("configuration tables differ from stacks/<layer>/Pulumi.yaml in %v: run %s", stale, configdecl.RegenerateCommand)
	}
	return nil
}
