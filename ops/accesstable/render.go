package accesstable

import (
	"fmt"
	"strings"
)

// Cells decides every cell of v: each secret × its rows × Actions.
func (v Vault) Cells() ([]Cell, error) {
	var out []Cell
	for _, s := range append(append([]Secret{}, v.AppSecrets...), v.Master) {
		rows, err := v.Rows(s)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			for _, a := range Actions {
				d, err := v.Decide(r, a, s)
				if err != nil {
					return nil, fmt.Errorf("%s, %s, %s: %w", r.Label, a.Name, s.Arn, err)
				}
				out = append(out, Cell{Row: r, Action: a, Secret: s, Decision: d})
			}
		}
	}
	return out, nil
}

// tableBegin and tableEnd mark the table in docs/credential-model.md.
const (
	tableBegin = "<!-- BEGIN access table: go test ./ops/accesstable -update -->\n"
	tableEnd   = "<!-- END access table -->"
)

// render is the table as the docs show it, between tableBegin and
// tableEnd: one table per kind of secret (an application secret, the
// master secret), rows the principals, columns the actions. Every cell of
// a kind must agree across its secrets (and a row across its principals,
// e.g. several administrators), or render fails: the table would
// otherwise hide a difference.
func render(cells []Cell) (string, error) {
	type key struct {
		master      bool
		label, verb string
	}
	verdicts := map[key]string{}
	var order [2][]string
	seen := map[key]bool{}
	for _, c := range cells {
		master := c.Secret.User == ""
		k := key{master, c.Row.Label, c.Action.Name}
		v := "deny"
		if c.Allowed {
			v = "allow"
		}
		if Expected(c.Row.Kind, c.Action, master) == Open {
			v += "†"
		}
		if prev, ok := verdicts[k]; ok && prev != v {
			return "", fmt.Errorf("accesstable: %s, %s differs between secrets or principals of one kind (%s and %s, at %s)", c.Row.Label, c.Action.Name, prev, v, c.Secret.Arn)
		}
		verdicts[k] = v
		rk := key{master, c.Row.Label, ""}
		if !seen[rk] {
			seen[rk] = true
			i := 0
			if master {
				i = 1
			}
			order[i] = append(order[i], c.Row.Label)
		}
	}
	var b strings.Builder
	b.WriteString("Columns: ")
	for i, a := range Actions {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s = `%s`", a.Short, a.Name)
	}
	b.WriteString(". The k… columns are direct calls to KMS on the secrets key, with the secret's ARN as encryption context.\n")
	for i, title := range []string{"**An application secret** (`db-credentials-<user>-<ENV>`)", "**The master secret** (`rds!cluster-…`, managed by RDS)"} {
		fmt.Fprintf(&b, "\n%s:\n\n| principal |", title)
		for _, a := range Actions {
			fmt.Fprintf(&b, " %s |", a.Short)
		}
		b.WriteString("\n| --- |")
		for range Actions {
			b.WriteString(" --- |")
		}
		b.WriteString("\n")
		for _, label := range order[i] {
			fmt.Fprintf(&b, "| %s |", label)
			for _, a := range Actions {
				fmt.Fprintf(&b, " %s |", verdicts[key{i == 1, label, a.Name}])
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\n† left open by the contract: what RDS needs on its own master secret only a real account shows.\n")
	return b.String(), nil
}
