// Package kittest is what the layers' tests share: running a layer or one
// of its components under the mocks (kit/mock), finding what the run
// registered, reading its inputs and policy documents, and the checks that
// every layer's resources must pass.
package kittest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/mock"
)

// Config is a valid configuration of project in environment dev, with
// extra over it; an empty value in extra removes the key.
func Config(project string, extra map[string]string) map[string]string {
	cfg := map[string]string{project + ":environmentSuffix": "dev"}
	for k, v := range extra {
		if v == "" {
			delete(cfg, k)
			continue
		}
		cfg[k] = v
	}
	return cfg
}

// Run runs layer under the mocks and fails t if the run fails.
func Run(t testing.TB, layer kit.Layer, opts mock.RunOptions) mock.Result {
	t.Helper()
	res, err := mock.Run(layer, opts)
	if err != nil {
		t.Fatalf("%s under mocks: %v", layer.Name, err)
	}
	return res
}

// Build runs under the mocks a program that builds one component named name
// from args with newComponent and exports its outputs, as another program
// would (with the caller's resource options opts), and returns what the
// run registered (on an error, what it registered before it) and the error.
// It fails t if newComponent changed the caller's args. args may be nil,
// which every component refuses.
func Build[A any, C interface{ Outputs() pulumi.Map }](t testing.TB, newComponent func(*pulumi.Context, string, *A, ...pulumi.ResourceOption) (C, error), name string, args *A, opts ...pulumi.ResourceOption) (mock.Result, error) {
	t.Helper()
	show := func() string {
		if args == nil {
			return "nil"
		}
		return fmt.Sprintf("%+v", *args)
	}
	before := show()
	program := kit.Layer{Name: "component", Project: "component", Run: func(ctx *pulumi.Context) (pulumi.Map, error) {
		c, err := newComponent(ctx, name, args, opts...)
		if err != nil {
			return nil, err
		}
		return c.Outputs(), nil
	}}
	res, err := mock.Run(program, mock.RunOptions{})
	if after := show(); after != before {
		t.Errorf("%s changed the caller's Args:\n was %s\n now %s", name, before, after)
	}
	return res, err
}

// One is the one resource of type typ that res holds.
func One(t testing.TB, res mock.Result, typ string) mock.Resource {
	t.Helper()
	rs := res.ByType(typ)
	if len(rs) != 1 {
		t.Fatalf("%s: %d resources, want 1", typ, len(rs))
	}
	return rs[0]
}

// Named is the resource of type typ and logical name name that res holds.
func Named(t testing.TB, res mock.Result, typ, name string) mock.Resource {
	t.Helper()
	for _, r := range res.ByType(typ) {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no %s named %s", typ, name)
	return mock.Resource{}
}

// Plain is v, unwrapped if it is a secret: the tests read what the engine
// receives.
func Plain(v resource.PropertyValue) resource.PropertyValue {
	if v.IsSecret() {
		return v.SecretValue().Element
	}
	return v
}

// Get is r's input at path, a key and then the keys of the objects under
// it, with secrets unwrapped; null where there is none.
func Get(r mock.Resource, path ...string) resource.PropertyValue {
	v := resource.NewProperty(r.Inputs)
	for _, k := range path {
		v = Plain(v)
		if !v.IsObject() {
			return resource.NewNullProperty()
		}
		v = v.ObjectValue()[resource.PropertyKey(k)]
	}
	return Plain(v)
}

// Str is r's input at path (Get) if it is a string, else "".
func Str(r mock.Resource, path ...string) string {
	v := Get(r, path...)
	if !v.IsString() {
		return ""
	}
	return v.StringValue()
}

// Strs is r's input at path (Get) if it is a list, its elements as strings
// ("" for one that is not), else nil.
func Strs(r mock.Resource, path ...string) []string {
	v := Get(r, path...)
	if !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.ArrayValue() {
		s := ""
		if e = Plain(e); e.IsString() {
			s = e.StringValue()
		}
		out = append(out, s)
	}
	return out
}

// Statements parses a policy document. It fails t unless the document is
// JSON of policy language version 2012-10-17 with at least one statement.
func Statements(t testing.TB, doc string) []kit.Statement {
	t.Helper()
	var p kit.PolicyDocument
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatalf("policy is not JSON: %v\n%s", err, doc)
	}
	if p.Version != "2012-10-17" || len(p.Statement) == 0 {
		t.Fatalf("policy of version %q with %d statements, want 2012-10-17 and at least one:\n%s", p.Version, len(p.Statement), doc)
	}
	return p.Statement
}

// BySid are the statements of a policy document (Statements) by their Sid.
// It fails t for a statement without a Sid or with another's.
func BySid(t testing.TB, doc string) map[string]kit.Statement {
	t.Helper()
	out := map[string]kit.Statement{}
	for _, s := range Statements(t, doc) {
		if _, dup := out[s.Sid]; dup || s.Sid == "" {
			t.Errorf("statement id %q missing or repeated in %s", s.Sid, doc)
		}
		out[s.Sid] = s
	}
	return out
}

// List is a policy value that IAM takes as a string or a list (an action,
// a resource, a condition's value), as a list.
func List(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}

// Children counts the custom resources of res by type, failing t for one
// that is not a child of the run's one component of type component.
func Children(t testing.TB, res mock.Result, component string) map[string]int {
	t.Helper()
	parent := One(t, res, component).URN
	counts := map[string]int{}
	for _, r := range res.Resources {
		if !r.Custom {
			continue
		}
		counts[r.Type]++
		if r.Parent != parent {
			t.Errorf("%s %s: parent %q, want the component", r.Type, r.Name, r.Parent)
		}
	}
	return counts
}

// Taggable are the resources of res that carry tags: those of a type in
// taggable, and any other that sets tags. It fails t for a resource of a
// type in neither taggable nor untaggable, so that a new type fails the
// test until it is sorted, and no tag check skips it silently.
func Taggable(t testing.TB, res mock.Result, taggable, untaggable []string) []mock.Resource {
	t.Helper()
	var out []mock.Resource
	for _, r := range res.Resources {
		if !slices.Contains(taggable, r.Type) && !slices.Contains(untaggable, r.Type) {
			t.Errorf("%s (%s): type in neither taggable nor untaggable", r.Name, r.Type)
		}
		if slices.Contains(taggable, r.Type) || r.Inputs.HasValue("tags") {
			out = append(out, r)
		}
	}
	return out
}

// CheckTags fails t for each compliance tag that r does not carry with
// want's value (its own tags over its provider's defaults, as AWS merges
// them).
func CheckTags(t testing.TB, r mock.Resource, want kit.Tags) {
	t.Helper()
	tags := r.Tags()
	for _, k := range kit.TagKeys {
		if v := want.Map()[k]; tags[k] != v {
			t.Errorf("%s %s: tag %s = %q, want %q", r.Type, r.Name, k, tags[k], v)
		}
	}
}

// Destroyable fails t for each resource of res that is protected or kept
// on delete: an ephemeral environment must be destroyable.
func Destroyable(t testing.TB, res mock.Result) {
	t.Helper()
	for _, r := range res.Resources {
		if r.Options.Protect || r.Options.RetainOnDelete {
			t.Errorf("%s %s: protected or retained; every resource of an ephemeral environment must be destroyable", r.Type, r.Name)
		}
	}
}

// Refused fails t unless err is an error that says want.
func Refused(t testing.TB, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want one containing %q", err, want)
	}
}

// NothingRegistered fails t if res holds a resource: a refusal comes before
// anything is created.
func NothingRegistered(t testing.TB, res mock.Result) {
	t.Helper()
	if n := len(res.Resources); n != 0 {
		t.Errorf("registered %d resource(s) before refusing, want nothing", n)
	}
}
