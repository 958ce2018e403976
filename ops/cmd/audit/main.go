// Command audit evaluates the policy pack (policy/) over the synthesized
// layers and prints a table of findings (rule, severity, layer, resource,
// message). It exits 1 when any finding has severity high, 2 on an error
// (unreadable input or policies), 0 otherwise.
//
//	go run ./ops/cmd/audit [-input build/synth] [-policy policy] [-json] [-rules]
//	go run ./ops/cmd/audit -taggable policy/taggable.rego
//
// -input defaults to $AUDIT_INPUT, else build/synth.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/dbvault/dbvault/ops/audit"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("audit", flag.ContinueOnError)
	fl.SetOutput(stderr)
	defInput := os.Getenv("AUDIT_INPUT")
	if defInput == "" {
		defInput = "build/synth"
	}
	var o options
	fl.StringVar(&o.input, "input", defInput, "folder of synth files (<layer>.json); default $AUDIT_INPUT or build/synth")
	fl.StringVar(&o.policy, "policy", "policy", "folder of the Rego policy pack")
	fl.BoolVar(&o.asJSON, "json", false, "print the findings as JSON instead of a table")
	fl.BoolVar(&o.listRules, "rules", false, "print the rule catalog as a Markdown table and exit")
	fl.StringVar(&o.taggable, "taggable", "", "write the taggable resource types of "+audit.TaggableModule+" as Rego to this file and exit")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	high, err := o.run(ctx, stdout, stderr)
	switch {
	case err != nil:
		fmt.Fprintln(stderr, err)
		return 2
	case high > 0:
		return 1
	}
	return 0
}

// options are the command's flags.
type options struct {
	input, policy, taggable string
	asJSON, listRules       bool
}

// run does what the flags ask and returns how many findings are high.
func (o options) run(ctx context.Context, stdout, stderr io.Writer) (int, error) {
	if o.taggable != "" {
		return 0, writeTaggable(o.taggable)
	}
	pack, err := audit.Load(ctx, o.policy)
	if err != nil {
		return 0, err
	}
	if o.listRules {
		return 0, audit.WriteRules(stdout, pack.Rules())
	}
	docs, err := audit.ReadDir(o.input)
	if err != nil {
		return 0, err
	}
	findings, err := pack.EvaluateDir(ctx, o.input)
	if err != nil {
		return 0, err
	}
	if o.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if findings == nil {
			findings = []audit.Finding{}
		}
		if err := enc.Encode(findings); err != nil {
			return 0, err
		}
	} else if len(findings) > 0 {
		if err := audit.WriteTable(stdout, findings); err != nil {
			return 0, err
		}
	}
	high := audit.CountHigh(findings)
	verdict := "PASS"
	if high > 0 {
		verdict = "FAIL"
	}
	fmt.Fprintf(stderr, "audit: %s: %d rules over %d layer file(s) in %s: %d finding(s), %d high\n",
		verdict, len(pack.Rules()), len(docs), o.input, len(findings), high)
	return high, nil
}

// writeTaggable makes policy/taggable.rego from the provider SDK the stacks
// build with.
func writeTaggable(path string) error {
	dir, err := audit.DownloadModule(audit.TaggableModule)
	if err != nil {
		return err
	}
	taggable, noDefault, err := audit.TaggableTypes(dir)
	if err != nil {
		return err
	}
	return os.WriteFile(path, audit.TaggableRego(taggable, noDefault), 0o644) // #nosec G306 -- a policy file of the repository
}
