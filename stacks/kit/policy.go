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

// Statement is one policy statement. Principal, Action and Resource are
// `any` because IAM accepts a string or a list (and "*" for principals).
type Statement struct {
	Sid       string                    `json:"Sid,omitempty"`
	Effect    string                    `json:"Effect"`
	Principal any                       `json:"Principal,omitempty"`
	Action    any                       `json:"Action,omitempty"`
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
