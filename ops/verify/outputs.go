package verify

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Outputs are stack outputs by layer ("network", "kms", "database", "secrets")
// and name, as decoded JSON (string, float64, []any, map[string]any).
type Outputs map[string]map[string]any

// Region is the region the environment's secrets and keys are in, read
// from their ARNs (the secrets layer's secretArn, else the kms layer's
// secretsKeyArn); "" when the outputs hold neither.
func (o Outputs) Region() string {
	for _, at := range [][2]string{{"secrets", "secretArn"}, {"kms", "secretsKeyArn"}} {
		if a, _ := o[at[0]][at[1]].(string); strings.HasPrefix(a, "arn:") && strings.Count(a, ":") >= 5 {
			return strings.Split(a, ":")[3]
		}
	}
	return ""
}

// Layers whose outputs verify reads.
var Layers = []string{"network", "kms", "database", "secrets"}

// ReadOutputsFile reads outputs from a JSON file shaped like Outputs:
// {"network": {"vpcId": "vpc-1", ...}, "kms": {...}, "database": {...}, "secrets": {...}}.
func ReadOutputsFile(path string) (Outputs, error) {
	data, err := os.ReadFile(path) // #nosec G304 -- the operator's own outputs file, named on the command line
	if err != nil {
		return nil, err
	}
	var o Outputs
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, fmt.Errorf("%s: not a JSON object of layers and their outputs: %w", path, err)
	}
	return o, nil
}

// missing is a reader of outputs that remembers the first one missing.
type reader struct {
	v   *Verifier
	out Result
	bad bool
}

// need starts reading outputs for check.
func (v *Verifier) need(check string) *reader { return &reader{v: v, out: Result{Check: check}} }

func (r *reader) miss(layer, name, why string) {
	if r.bad {
		return
	}
	r.bad = true
	r.out = fail(r.out.Check, fmt.Sprintf("output %s missing: deploy layer %s again%s", name, layer, why), r.v.up(layer))
}

func (r *reader) raw(layer, name string) (any, bool) {
	v, ok := r.v.Outputs[layer][name]
	if !ok || v == nil {
		r.miss(layer, name, "")
		return nil, false
	}
	return v, true
}

// str is a non-empty string output.
func (r *reader) str(layer, name string) string {
	v, ok := r.raw(layer, name)
	if !ok {
		return ""
	}
	s, isStr := v.(string)
	if !isStr || s == "" {
		r.miss(layer, name, fmt.Sprintf(" (it is %v, not a non-empty string)", v))
	}
	return s
}

// list is a non-empty list of strings.
func (r *reader) list(layer, name string) []string {
	v, ok := r.raw(layer, name)
	if !ok {
		return nil
	}
	var out []string
	switch x := v.(type) {
	case []string:
		out = x
	case []any:
		for _, e := range x {
			s, isStr := e.(string)
			if !isStr {
				r.miss(layer, name, fmt.Sprintf(" (it is %v, not a list of strings)", v))
				return nil
			}
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		r.miss(layer, name, fmt.Sprintf(" (it is %v, not a non-empty list of strings)", v))
	}
	return out
}

// strMap is a non-empty map of strings (appSecretArns: user -> ARN).
func (r *reader) strMap(layer, name string) map[string]string {
	v, ok := r.raw(layer, name)
	if !ok {
		return nil
	}
	out := map[string]string{}
	switch x := v.(type) {
	case map[string]string:
		out = x
	case map[string]any:
		for k, e := range x {
			s, isStr := e.(string)
			if !isStr || s == "" {
				r.miss(layer, name, fmt.Sprintf(" (entry %s is %v, not an ARN)", k, e))
				return nil
			}
			out[k] = s
		}
	}
	if len(out) == 0 {
		r.miss(layer, name, fmt.Sprintf(" (it is %v, not a map of user to ARN)", v))
	}
	return out
}

// optBool is a boolean output that older stacks lack: absent is false, as
// kit.Ref.OptionalBool reads it in the layers.
func (r *reader) optBool(layer, name string) bool {
	switch x := r.v.Outputs[layer][name].(type) {
	case nil:
		return false
	case bool:
		return x
	default:
		r.miss(layer, name, fmt.Sprintf(" (it is %v, not true or false)", x))
		return false
	}
}

// existingCluster reads the database layer's existingCluster: true when it
// serves a cluster the team already runs (existingClusterIdentifier), whose
// parameter groups, master secret and that secret's policy and rotation
// stay the team's. A database stack without the output predates it and
// serves the vault's own cluster.
func (r *reader) existingCluster() bool { return r.optBool("database", "existingCluster") }

// num is a positive whole number (a JSON number, or its text).
func (r *reader) num(layer, name string) int64 {
	v, ok := r.raw(layer, name)
	if !ok {
		return 0
	}
	var n float64
	switch x := v.(type) {
	case float64:
		n = x
	case int:
		n = float64(x)
	case int64:
		n = float64(x)
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			r.miss(layer, name, fmt.Sprintf(" (it is %q, not a number)", x))
			return 0
		}
		n = f
	}
	if n <= 0 || n != float64(int64(n)) {
		r.miss(layer, name, fmt.Sprintf(" (it is %v, not a positive whole number)", v))
		return 0
	}
	return int64(n)
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
