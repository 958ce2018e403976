package mysqldb

import (
	"fmt"
	"strings"
	"unicode"
)

// RewriteGrant turns one row of SHOW GRANTS FOR <from> into the statement
// that gives the same privileges to another account. It reads both formats:
// MariaDB's (which may add IDENTIFIED BY PASSWORD '<hash>' and REQUIRE ...)
// and MySQL 8's. The account clause is replaced by to; IDENTIFIED ... is
// dropped (the new account has its own password; the hash must never be
// copied or printed); REQUIRE ... is dropped because MySQL 8 refuses it in
// GRANT (CopyGrants copies the TLS requirement with ALTER USER instead);
// WITH GRANT OPTION, WITH ADMIN OPTION and resource limits are kept.
//
// It returns ok=false for a row that grants nothing to copy: MariaDB's bare
// "GRANT USAGE ON *.* TO ..." (every account has it).
//
// MariaDB's SHOW GRANTS ends with "SET DEFAULT ROLE `r` FOR `user`@`host`"
// when the account has a default role (after the role's GRANT row): that
// row is rewritten for to as well, so the clone's sessions start with the
// same role. (MySQL 8 keeps default roles out of SHOW GRANTS.)
func RewriteGrant(row string, to string) (stmt string, ok bool, err error) {
	toks, err := lex(row)
	if err != nil {
		return "", false, err
	}
	if len(toks) >= 3 && toks[0].is("SET") && toks[1].is("DEFAULT") && toks[2].is("ROLE") {
		return rewriteDefaultRole(toks, to)
	}
	if len(toks) < 4 || !toks[0].is("GRANT") {
		return "", false, fmt.Errorf("not a GRANT statement")
	}
	// The grantee follows the first TO outside quotes: privilege lists,
	// object names and role names never contain a bare TO.
	toAt := -1
	for i, t := range toks {
		if t.is("TO") {
			toAt = i
			break
		}
	}
	if toAt < 2 {
		return "", false, fmt.Errorf("GRANT statement without TO")
	}
	// Account: name [@ host]
	i := toAt + 1
	if i >= len(toks) || toks[i].kind == tokPunct {
		return "", false, fmt.Errorf("GRANT statement without grantee")
	}
	i++
	if i < len(toks) && toks[i].text == "@" {
		i += 2
		if i > len(toks) {
			return "", false, fmt.Errorf("GRANT statement with an incomplete grantee")
		}
	}
	var rest []string
	for i < len(toks) {
		switch {
		case toks[i].is("IDENTIFIED"), toks[i].is("REQUIRE"):
			i++
			for i < len(toks) && !toks[i].is("WITH") && !toks[i].is("REQUIRE") && !toks[i].is("IDENTIFIED") {
				i++
			}
		default:
			rest = append(rest, toks[i].text)
			i++
		}
	}
	head := make([]string, 0, toAt)
	for _, t := range toks[:toAt] {
		head = append(head, t.text)
	}
	if strings.EqualFold(join(head), "GRANT USAGE ON *.*") && len(rest) == 0 {
		return "", false, nil
	}
	stmt = join(head) + " TO " + to
	if len(rest) > 0 {
		stmt += " " + join(rest)
	}
	return stmt, true, nil
}

// rewriteDefaultRole: SET DEFAULT ROLE <role> FOR <account> for to.
func rewriteDefaultRole(toks []token, to string) (string, bool, error) {
	forAt := -1
	for i, t := range toks {
		if t.is("FOR") {
			forAt = i
			break
		}
	}
	if forAt < 4 || forAt+1 >= len(toks) {
		return "", false, fmt.Errorf("SET DEFAULT ROLE without a role or a FOR account")
	}
	// Nothing may follow the account: name [@ host].
	end := forAt + 2
	if end < len(toks) && toks[end].text == "@" {
		end += 2
	}
	if end != len(toks) || toks[forAt+1].kind == tokPunct {
		return "", false, fmt.Errorf("SET DEFAULT ROLE with an unexpected account clause")
	}
	role := make([]string, 0, forAt-3)
	for _, t := range toks[3:forAt] {
		role = append(role, t.text)
	}
	return "SET DEFAULT ROLE " + join(role) + " FOR " + to, true, nil
}

// join puts tokens back together with spaces, except around punctuation that
// SQL writes tight (`db`.`t`, (`col`), a, b).
func join(toks []string) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 {
			prev := toks[i-1]
			tight := t == "," || t == "." || t == ")" || prev == "." || prev == "(" || prev == "@" || t == "@"
			if !tight {
				b.WriteByte(' ')
			}
		}
		b.WriteString(t)
	}
	return b.String()
}

type tokKind int

const (
	tokWord tokKind = iota
	tokQuoted
	tokPunct
)

type token struct {
	kind tokKind
	text string
}

func (t token) is(word string) bool { return t.kind == tokWord && strings.EqualFold(t.text, word) }

// lex splits a SHOW GRANTS row into words (including *.* and *), quoted
// names and strings (kept with their quotes, so the row is rebuilt exactly)
// and punctuation.
func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '`' || c == '\'' || c == '"':
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated quoted name or string at byte %d", i)
				}
				if c != '`' && s[j] == '\\' {
					j += 2
					continue
				}
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			out = append(out, token{tokQuoted, s[i : j+1]})
			i = j + 1
		case c == ',' || c == '(' || c == ')' || c == '@' || c == '.':
			out = append(out, token{tokPunct, string(c)})
			i++
		default:
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("unexpected character at byte %d", i)
			}
			out = append(out, token{tokWord, s[i:j]})
			i = j
		}
	}
	return out, nil
}

func isWordByte(b byte) bool {
	if b >= 0x80 {
		return true
	}
	r := rune(b)
	return unicode.IsLetter(r) || unicode.IsDigit(r) || b == '_' || b == '*' || b == '$' || b == '%' || b == '-'
}

// quoteAccount writes 'user'@'host' as backquoted identifiers, which need no
// escaping other than a doubled backquote, whatever the server's SQL mode.
func quoteAccount(user, host string) string {
	q := func(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
	return q(user) + "@" + q(host)
}
