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
	input := fl.String("input", defInput, "folder of synth files (<layer>.json); default $AUDIT_INPUT or build/synth")
	policy := fl.String("policy", "policy", "folder of the Rego policy pack")
	asJSON := fl.Bool("json", false, "print the findings as JSON instead of a table")
	listRules := fl.Bool("rules", false, "print the rule catalog as a Markdown table and exit")
	taggable := fl.String("taggable", "", "write the taggable resource types of "+audit.TaggableModule+" as Rego to this file and exit")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if *taggable != "" {
		if err := writeTaggable(*taggable); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		return 0
	}
	pack, err := audit.Load(ctx, *policy)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if *listRules {
		if err := audit.WriteRules(stdout, pack.Rules()); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		return 0
	}
	docs, err := audit.ReadDir(*input)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	findings, err := pack.EvaluateDir(ctx, *input)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if findings == nil {
			findings = []audit.Finding{}
		}
		if err := enc.Encode(findings); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	} else if len(findings) > 0 {
		if err := audit.WriteTable(stdout, findings); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	}
	high := audit.CountHigh(findings)
	verdict := "PASS"
	if high > 0 {
		verdict = "FAIL"
	}
	fmt.Fprintf(stderr, "audit: %s: %d rules over %d layer file(s) in %s: %d finding(s), %d high\n",
		verdict, len(pack.Rules()), len(docs), *input, len(findings), high)
	if high > 0 {
		return 1
	}
	return 0
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
