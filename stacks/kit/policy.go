package kit

import "encoding/json"

// PolicyDocument is an IAM (or KMS key, or VPC endpoint) policy. Layers build
// policies from these types and marshal them, instead of calling the
// getPolicyDocument invoke, so that the JSON the engine receives is exactly
// what the code says, offline and under mocks alike.
type PolicyDocument struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one policy statement. Principal, Action, NotAction and
// Resource are `any` because IAM accepts a string or a list (and "*" for
// principals). NotAction is for Deny statements only: a Deny of every
// action but a listed few also covers actions AWS adds later.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
type Statement struct {
	Sid       string                    `json:"Sid,omitempty"`
	Effect    string                    `json:"Effect"`
	Principal any                       `json:"Principal,omitempty"`
	Action    any                       `json:"Action,omitempty"`
	NotAction any                       `json:"NotAction,omitempty"`
	Resource  any                       `json:"Resource,omitempty"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// NewPolicy returns a policy document with the current policy language version.
func NewPolicy(statements ...Statement) PolicyDocument {
	return PolicyDocument{Version: "2012-10-17", Statement: statements}
}

// JSON returns the document as the JSON string AWS expects.
func (p PolicyDocument) JSON() (string, error) {
	b, err := json.Marshal(p)
	return string(b), err
}
