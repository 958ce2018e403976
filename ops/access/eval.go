package access

import (
	"fmt"
	"strings"
)

// Principal is who makes a request.
type Principal struct {
	// ARN is the IAM role or user (what aws:PrincipalArn holds for it: a
	// role session is its role); empty for a service principal.
	ARN string
	// Account is the principal's account; empty for a service principal.
	Account string
	// Service is a service principal acting as itself
	// (rds.amazonaws.com); empty for an IAM principal.
	Service string
}

// Request is one request: who, which action on which resource, and the
// request context the policies' conditions read.
type Request struct {
	Principal Principal
	Action    string
	Resource  string
	Context   Context
}

// Target is what a request is judged by.
type Target struct {
	// Identity are the principal's identity-based policies (none for a
	// service principal).
	Identity []Policy
	// Resource is the resource's policy; nil when it has none.
	Resource *Policy
	// Account owns the resource.
	Account string
	// KeyPolicy says Resource is a KMS key policy, which must allow the
	// request itself or enable IAM policies to.
	KeyPolicy bool
}

// Decision is the outcome of one request.
type Decision struct {
	Allowed bool
	// By is the deciding statement, "<policy>/<Sid>" (or "/#<index>"
	// without a Sid): the Deny that denied or the Allow that allowed;
	// empty for an implicit deny.
	By string
	// Why names the rule that decided.
	Why string
}

func (d Decision) String() string {
	verdict := "deny"
	if d.Allowed {
		verdict = "allow"
	}
	if d.By == "" {
		return verdict + " (" + d.Why + ")"
	}
	return verdict + " by " + d.By + " (" + d.Why + ")"
}

// grant is how a resource policy statement's Principal covers the caller.
type grant int

const (
	notCovered grant = iota
	// viaAccount: the statement names the caller's account
	// (arn:aws:iam::<account>:root or the bare ID), which delegates to the
	// account's own IAM policies: it grants nothing by itself.
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts
	viaAccount
	// direct: the statement names the caller (its ARN, its service, or
	// "*", every principal).
	direct
)

// covers reports how p (a Principal element) covers who.
func covers(p *Principals, who Principal) grant {
	if p.Any {
		// "*" is every principal.
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-anonymous
		return direct
	}
	g := notCovered
	for _, s := range p.Service {
		if who.Service != "" && s == who.Service {
			return direct
		}
	}
	for _, a := range p.AWS {
		switch {
		case a == "*": // {"AWS": "*"} is "*" as well (same section).
			return direct
		case who.ARN != "" && a == who.ARN:
			return direct
		case who.Account != "" && isAccount(a, who.Account):
			g = viaAccount
		}
	}
	return g
}

// isAccount: the account's root ARN or its bare 12-digit ID, which behave
// the same and name the whole account, not its root user.
func isAccount(id, account string) bool {
	if id == account {
		return true
	}
	parts := strings.Split(id, ":")
	return len(parts) == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[4] == account && parts[5] == "root"
}

// applies reports whether s covers the request (its action, resource and
// conditions) and, for a resource policy, how its Principal covers the
// caller.
func applies(s Statement, req Request, resourcePolicy bool) (grant, error) {
	g := direct
	if resourcePolicy {
		switch {
		case s.Principal != nil:
			g = covers(s.Principal, req.Principal)
		case s.NotPrincipal != nil:
			// NotPrincipal exempts a principal only when the statement
			// lists every identity the request carries (for a role's
			// session: the session, the role and, with Deny, the account);
			// listing the role alone does not exempt its sessions
			// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html).
			// The vault's policies do not use it, so it is not modelled.
			return notCovered, fmt.Errorf("NotPrincipal is not modelled (the vault's policies name principals with Principal and conditions on aws:PrincipalArn)")
		default:
			return notCovered, fmt.Errorf("a resource policy statement has no Principal")
		}
		if g == notCovered {
			return notCovered, nil
		}
	}
	// NotAction and NotResource: everything but the listed ones.
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html
	if !ActionCovered(s, req.Action) ||
		s.Resource != nil && !resourceMatches(s.Resource, req.Resource) ||
		s.NotResource != nil && resourceMatches(s.NotResource, req.Resource) {
		return notCovered, nil
	}
	ok, err := conditionsMatch(s.Condition, req.Context)
	if err != nil || !ok {
		return notCovered, err
	}
	return g, nil
}

func statementName(p Policy, i int) string {
	if sid := p.Statements[i].Sid; sid != "" {
		return p.Name + "/" + sid
	}
	return fmt.Sprintf("%s/#%d", p.Name, i)
}

// Evaluate decides req against t by AWS's evaluation logic:
//
//  1. An explicit Deny in any applicable policy denies, whatever allows.
//  2. Within one account, an Allow in an identity-based policy or one in
//     the resource-based policy that names the caller is enough.
//  3. Across accounts, both the caller's identity-based policy and the
//     resource-based policy must allow.
//  4. Otherwise the request is implicitly denied.
//
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
//
// A KMS key policy changes rule 2: IAM policies allow nothing unless the
// key policy allows the request itself or enables IAM policies (the root
// statement, a Principal naming the account); a Deny still denies.
// https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
// https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
//
// A service principal acting as itself has no identity-based policies: only
// a resource policy that names it can allow it.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-services
func Evaluate(req Request, t Target) (Decision, error) {
	var resourceDirect, resourceAccount, identityAllow string
	if t.Resource != nil {
		for i, s := range t.Resource.Statements {
			g, err := applies(s, req, true)
			if err != nil {
				return Decision{}, fmt.Errorf("%s: %w", statementName(*t.Resource, i), err)
			}
			switch {
			case g == notCovered:
			case s.Effect == "Deny":
				return Decision{By: statementName(*t.Resource, i), Why: "explicit deny in the resource policy"}, nil
			case g == direct && resourceDirect == "":
				resourceDirect = statementName(*t.Resource, i)
			case g == viaAccount && resourceAccount == "":
				resourceAccount = statementName(*t.Resource, i)
			}
		}
	}
	if req.Principal.Service == "" {
		for _, p := range t.Identity {
			for i, s := range p.Statements {
				g, err := applies(s, req, false)
				if err != nil {
					return Decision{}, fmt.Errorf("%s: %w", statementName(p, i), err)
				}
				switch {
				case g == notCovered:
				case s.Effect == "Deny":
					return Decision{By: statementName(p, i), Why: "explicit deny in an identity policy"}, nil
				case identityAllow == "":
					identityAllow = statementName(p, i)
				}
			}
		}
	}
	sameAccount := req.Principal.Account != "" && req.Principal.Account == t.Account
	switch {
	case req.Principal.Service != "":
		if resourceDirect != "" {
			return Decision{Allowed: true, By: resourceDirect, Why: "the resource policy names the service"}, nil
		}
		return Decision{Why: "no resource policy statement names the service"}, nil
	case !sameAccount:
		if identityAllow != "" && resourceDirect != "" {
			return Decision{Allowed: true, By: resourceDirect, Why: "cross-account: the resource policy and the caller's identity policy allow"}, nil
		}
		if identityAllow != "" && resourceAccount != "" {
			return Decision{Allowed: true, By: resourceAccount, Why: "cross-account: the resource policy names the caller's account and its identity policy allows"}, nil
		}
		return Decision{Why: "cross-account: the identity policy and the resource policy must both allow"}, nil
	case t.KeyPolicy:
		if resourceDirect != "" {
			return Decision{Allowed: true, By: resourceDirect, Why: "the key policy allows"}, nil
		}
		if resourceAccount != "" && identityAllow != "" {
			return Decision{Allowed: true, By: identityAllow, Why: "an IAM policy allows and the key policy enables IAM policies (" + resourceAccount + ")"}, nil
		}
		if identityAllow != "" {
			return Decision{Why: "an IAM policy allows, but the key policy neither allows nor enables IAM policies for this request"}, nil
		}
		return Decision{Why: "no allow"}, nil
	case resourceDirect != "":
		return Decision{Allowed: true, By: resourceDirect, Why: "the resource policy allows"}, nil
	case identityAllow != "":
		return Decision{Allowed: true, By: identityAllow, Why: "an identity policy allows"}, nil
	}
	return Decision{Why: "no allow"}, nil
}
