package configdecl

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/dbvault/dbvault/ops/internal/repotest"
	"github.com/dbvault/dbvault/ops/layers"
	"github.com/dbvault/dbvault/ops/synth"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
	"github.com/dbvault/dbvault/stacks/kit/mock"
	"github.com/dbvault/dbvault/stacks/secrets"
)

// retired are keys a layer reads only to refuse them; they are not
// declared (a declaration would invite setting them).
var retired = map[string]string{
	"vault-database:masterPassword": "RDS manages the master password; the layer refuses the key",
	"vault-kms:secretReaders":       "readers are declared once, in the secrets layer's appUsers; the layer refuses the key",
	"vault-secrets:administrators":  "administrators are declared once, in the kms layer; the layer refuses the key",
}

// readElsewhere are declared keys that ops/deploy reads, not the layer.
var readElsewhere = map[string]string{
	"vault-secrets:createTrail": "ops/deploy: no lookup of the account's trail",
}

// project loads stacks/<layer>/Pulumi.yaml as the CLI does (its JSON
// schema and Validate: a typed default of another type is an error).
func project(t *testing.T, layer string) *workspace.Project {
	t.Helper()
	p, err := workspace.LoadProject(filepath.Join(repotest.Root(t), "stacks", layer, "Pulumi.yaml"))
	if err != nil {
		t.Fatalf("stacks/%s/Pulumi.yaml: %v", layer, err)
	}
	return p
}

// declared are a project's config declarations by fully qualified key.
func declared(p *workspace.Project) map[string]workspace.ProjectConfigType {
	out := map[string]workspace.ProjectConfigType{}
	for k, v := range p.Config {
		if !strings.Contains(k, ":") {
			k = p.Name.String() + ":" + k
		}
		out[k] = v
	}
	return out
}

// How a key is read, from the code.
const (
	byGet       = "Get"          // config.Config.Get and friends: a string
	byInt       = "IntConfig"    // kit.IntConfig, Common.LogRetention: a whole number
	byObject    = "ObjectConfig" // kit.ObjectConfig: JSON, a list or an object
	byRef       = "NewRef"       // kit.NewRef, kit.StackName: a stack name
	byGetConfig = "GetConfig"    // ctx.GetConfig(project + ":key"): a string, "" not unset
)

// keySecond are the readers that take the key as their second argument,
// kit.IntConfig(cfg, "<key>", ...), and how they read it.
var keySecond = map[string]string{"IntConfig": byInt, "LogRetention": byInt, "ObjectConfig": byObject, "NewRef": byRef, "StackName": byRef}

// scan reads the Go files of dir (not its tests, not its subfolders) and
// returns, per function, the config keys it reads with string literals
// and the functions it calls (kit.X by its name, local calls by theirs);
// the kit functions that package-level values call are those of "".
func scan(t *testing.T, dir string) (reads map[string]map[string]string, calls map[string][]string) {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	reads, calls = map[string]map[string]string{}, map[string][]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok {
				// A package-level value that calls kit, var Layer =
				// kit.NewLayer(...), counts as a function of its own.
				if reads[""] == nil {
					reads[""] = map[string]string{}
				}
				ast.Inspect(g, func(n ast.Node) bool {
					if c, ok := n.(*ast.CallExpr); ok {
						if sel, ok := c.Fun.(*ast.SelectorExpr); ok {
							if x, ok := sel.X.(*ast.Ident); ok && x.Name == "kit" {
								calls[""] = append(calls[""], sel.Sel.Name)
							}
						}
					}
					return true
				})
			}
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			name := fn.Name.Name
			if reads[name] == nil {
				reads[name] = map[string]string{}
			}
			scanFunc(fn, reads[name], func(callee string) { calls[name] = append(calls[name], callee) })
		}
	}
	return reads, calls
}

func literal(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// configNew reports whether e is config.New(_, ns) and returns ns.
func configNew(e ast.Expr) (string, bool) {
	call, ok := e.(*ast.CallExpr)
	if !ok || len(call.Args) != 2 {
		return "", false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "New" {
		return "", false
	}
	if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "config" {
		return "", false
	}
	return literal(call.Args[1])
}

// literalKeys are the string keys of a composite literal
// (map[string]T{"a": ..., "b": ...}).
func literalKeys(e ast.Expr) []string {
	m, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil
	}
	var keys []string
	for _, el := range m.Elts {
		if kv, ok := el.(*ast.KeyValueExpr); ok {
			if k, ok := literal(kv.Key); ok {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// isConfigParam reports whether a parameter's type is *config.Config.
func isConfigParam(e ast.Expr) bool {
	star, ok := e.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == "config" && sel.Sel.Name == "Config"
}

func scanFunc(fn *ast.FuncDecl, reads map[string]string, call func(string)) {
	// Identifiers holding the project's config: config.New(ctx, "") or a
	// *config.Config parameter (the callers pass the project's).
	project := map[string]bool{}
	for _, f := range fn.Type.Params.List {
		if isConfigParam(f.Type) {
			for _, n := range f.Names {
				project[n.Name] = true
			}
		}
	}
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok {
			for i, rhs := range as.Rhs {
				if ns, ok := configNew(rhs); ok && i < len(as.Lhs) {
					if id, ok := as.Lhs[i].(*ast.Ident); ok {
						project[id.Name] = ns == ""
					}
				}
			}
		}
		c, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		var name string
		var recv ast.Expr
		switch fun := c.Fun.(type) {
		case *ast.Ident:
			call(fun.Name)
			name = fun.Name
		case *ast.SelectorExpr:
			if x, ok := fun.X.(*ast.Ident); ok && x.Name == "kit" {
				call(fun.Sel.Name)
			}
			name, recv = fun.Sel.Name, fun.X
		}
		if name == "" {
			return true
		}
		{
			arg := func(i int) (string, bool) {
				if len(c.Args) <= i {
					return "", false
				}
				return literal(c.Args[i])
			}
			switch name {
			case "Get", "Require", "Try", "GetSecret", "RequireSecret", "GetBool", "GetInt", "GetObject", "RequireObject":
				if recv == nil {
					break
				}
				ns, isNew := configNew(recv)
				id, isIdent := recv.(*ast.Ident)
				if (isNew && ns == "") || (isIdent && project[id.Name]) {
					if k, ok := arg(0); ok {
						reads[k] = byGet
					}
				}
			case "NonZeroInts":
				// kit.NonZeroInts(cfg, map[string]*int{"<key>": &v, ...}, ...)
				if len(c.Args) > 1 {
					for _, k := range literalKeys(c.Args[1]) {
						reads[k] = byInt
					}
				}
			case "GetConfig":
				if len(c.Args) == 1 {
					if b, ok := c.Args[0].(*ast.BinaryExpr); ok {
						if k, ok := literal(b.Y); ok && strings.HasPrefix(k, ":") {
							reads[k[1:]] = byGetConfig
						}
					}
				}
			default:
				if how, ok := keySecond[name]; ok {
					if k, ok := arg(1); ok {
						reads[k] = how
					}
				}
			}
		}
		return true
	})
}

// readKeys are the project config keys layer reads, fully qualified, with
// how: its own package's literal reads plus those of every kit function
// it calls, transitively.
func readKeys(t *testing.T, l kit.Layer) map[string]string {
	t.Helper()
	root := repotest.Root(t)
	own, ownCalls := scan(t, filepath.Join(root, "stacks", l.Name))
	kitReads, kitCalls := scan(t, filepath.Join(root, "stacks", "kit"))
	out := map[string]string{}
	add := func(m map[string]string) {
		for k, how := range m {
			if prev, ok := out[l.Project+":"+k]; !ok || prev == byGet {
				out[l.Project+":"+k] = how // a typed reader says more than Get
			}
		}
	}
	seen := map[string]bool{}
	var visit func(string)
	visit = func(fn string) {
		if seen[fn] {
			return
		}
		seen[fn] = true
		add(kitReads[fn])
		for _, c := range kitCalls[fn] {
			visit(c)
		}
	}
	for fn, m := range own {
		add(m)
		for _, c := range ownCalls[fn] {
			if _, isKit := kitReads[c]; isKit {
				visit(c)
			}
		}
	}
	return out
}

// Every key a layer reads is declared in its Pulumi.yaml, and every
// declaration is read (by the layer or, for the listed ones, ops/deploy).
func TestEveryKeyTheLayerReadsIsDeclared(t *testing.T) {
	for _, l := range layers.All {
		t.Run(l.Name, func(t *testing.T) {
			reads := readKeys(t, l)
			if len(reads) < 6 {
				t.Fatalf("the scan found only %v: it misses the layer's reads", reads)
			}
			decl := declared(project(t, l.Name))
			for _, k := range slices.Sorted(maps.Keys(reads)) {
				if _, ok := decl[k]; !ok && retired[k] == "" {
					t.Errorf("%s reads %s (%s) but stacks/%s/Pulumi.yaml does not declare it", l.Name, k, reads[k], l.Name)
				}
			}
			for _, k := range slices.Sorted(maps.Keys(decl)) {
				if _, ok := reads[k]; !ok && readElsewhere[k] == "" {
					t.Errorf("stacks/%s/Pulumi.yaml declares %s, which nothing reads", l.Name, k)
				}
				if decl[k].Description == "" {
					t.Errorf("%s has no description", k)
				}
			}
		})
	}
}

// A key's declared type is the one its reader parses. A key whose
// default depends on another key is declared without a type and with the
// empty default (the layer's own default), its description starting with
// its real type.
func TestDeclaredTypesAreTheReaders(t *testing.T) {
	for _, l := range layers.All {
		t.Run(l.Name, func(t *testing.T) {
			reads := readKeys(t, l)
			for k, d := range declared(project(t, l.Name)) {
				how, read := reads[k]
				if !read {
					continue
				}
				if d.Type == nil {
					if d.Default != "" {
						t.Errorf("%s has no type, so its default must be \"\" (the layer's own), not %#v", k, d.Default)
					}
					want := map[string]string{byInt: "integer", byObject: "list", byGet: ""}[how]
					if want != "" && !strings.HasPrefix(d.Description, want) {
						t.Errorf("%s (read by %s) is untyped: its description must start with %q", k, how, want)
					}
					continue
				}
				typ := *d.Type
				switch how {
				case byInt:
					if typ != "integer" {
						t.Errorf("%s is read by %s but declared %s", k, how, typ)
					}
				case byObject:
					if typ != "array" && typ != "object" {
						t.Errorf("%s is read by %s but declared %s", k, how, typ)
					}
				case byRef, byGetConfig:
					if typ != "string" {
						t.Errorf("%s is read by %s but declared %s", k, how, typ)
					}
				}
			}
		})
	}
}

// Keys read as strings but declared of another type: a value of the wrong
// type is refused by the layer, naming the key (the layer parses it as
// the declared type).
func TestStringReadKeysParseTheirDeclaredType(t *testing.T) {
	bad := map[string]string{"integer": "seven", "boolean": "maybe", "array": "{not json", "object": "[not json"}
	n := 0
	for _, l := range layers.All {
		reads := readKeys(t, l)
		for k, d := range declared(project(t, l.Name)) {
			if reads[k] != byGet || d.Type == nil || *d.Type == "string" {
				continue
			}
			n++
			t.Run(k, func(t *testing.T) {
				opts := baseOptions(t, kit.Ephemeral)
				opts.Config[k] = bad[*d.Type]
				_, err := synth.Run(opts)
				name := k[strings.Index(k, ":")+1:]
				if err == nil || !strings.Contains(err.Error(), name) {
					t.Fatalf("%s=%q (declared %s): err = %v, want a refusal naming %s", k, bad[*d.Type], *d.Type, err, name)
				}
			})
		}
	}
	if n == 0 {
		t.Fatal("no key read as a string is declared of another type: the test tests nothing")
	}
}

// baseOptions synthesizes all four layers of class with only what a
// stack must have.
func baseOptions(t *testing.T, class string) synth.Options {
	t.Helper()
	cfg := map[string]string{kit.SecretsProject + ":rotatorZip": mock.RotatorZip(t)}
	for _, l := range layers.All {
		cfg[l.Project+":environmentClass"] = class
	}
	return synth.Options{Env: "dev", Region: "us-east-1", Root: repotest.Root(t), Layers: layers.All, Config: cfg}
}

// cliValue is a project default as the CLI hands it to the program.
func cliValue(t *testing.T, v any) string {
	t.Helper()
	switch x := v.(type) {
	case string:
		return x
	case int, bool, float64:
		return fmt.Sprint(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// plain drops the config from synthesized documents: what remains is the
// program's result.
func plain(docs []synth.Document) []synth.Document {
	out := slices.Clone(docs)
	for i := range out {
		out[i].Config = nil
		// The cluster's final snapshot is named with the time of the run
		// that creates it (stacks/database, FinalSnapshotName): two runs a
		// second apart differ there whatever the config, so its form
		// stands in for the value.
		out[i].Resources = slices.Clone(out[i].Resources)
		for j, r := range out[i].Resources {
			if _, ok := r.Inputs["finalSnapshotIdentifier"]; ok {
				out[i].Resources[j].Inputs = maps.Clone(r.Inputs)
				out[i].Resources[j].Inputs["finalSnapshotIdentifier"] = snapshotForm(r.Inputs["finalSnapshotIdentifier"])
			}
		}
		if _, ok := out[i].Outputs["finalSnapshotIdentifier"]; ok {
			out[i].Outputs = maps.Clone(out[i].Outputs)
			out[i].Outputs["finalSnapshotIdentifier"] = snapshotForm(out[i].Outputs["finalSnapshotIdentifier"])
		}
	}
	return out
}

// snapshotForm is a final snapshot name with its creation time masked.
func snapshotForm(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	return regexp.MustCompile(`-[0-9]{8}-[0-9]{6}$`).ReplaceAllString(s, "-<created>")
}

// Every declared default is the layer's own: the four layers register the
// same resources and outputs with each default set as without it, in
// either environment class, with an existing network, and with an existing
// network and cluster. (The CLI sets
// every declared default a stack lacks, so a default the code does not
// share would change every stack that relies on it.)
func TestDeclaredDefaultsAreTheLayersOwn(t *testing.T) {
	if got := declared(project(t, "secrets"))[kit.SecretsProject+":rotatorZip"].Default; got != secrets.DefaultRotatorZip {
		t.Fatalf("rotatorZip default %v, the layer's %s", got, secrets.DefaultRotatorZip)
	}
	aws := awsfake.Default()
	subnets, err := json.Marshal(aws.ExistingSubnetIDs())
	if err != nil {
		t.Fatal(err)
	}
	existing := map[string]string{
		kit.NetworkProject + ":existingVpcId":     aws.ExistingVpcID(),
		kit.NetworkProject + ":existingSubnetIds": string(subnets),
	}
	existingCluster := maps.Clone(existing)
	existingCluster[kit.DatabaseProject+":existingClusterIdentifier"] = awsfake.ExistingClusterIdentifier
	for _, c := range []struct {
		name, class string
		extra       map[string]string
	}{{"ephemeral", kit.Ephemeral, nil}, {"production", kit.Production, nil}, {"existing network", kit.Ephemeral, existing}, {"existing network and cluster", kit.Ephemeral, existingCluster}} {
		t.Run(c.name, func(t *testing.T) {
			base := baseOptions(t, c.class)
			maps.Copy(base.Config, c.extra)
			want, err := synth.Run(base)
			if err != nil {
				t.Fatal(err)
			}
			withDefaults := base
			withDefaults.Config = maps.Clone(base.Config)
			n := 0
			for _, l := range layers.All {
				for k, d := range declared(project(t, l.Name)) {
					if _, set := base.Config[k]; set || d.Default == nil {
						continue
					}
					withDefaults.Config[k] = cliValue(t, d.Default)
					n++
				}
			}
			got, err := synth.Run(withDefaults)
			if err != nil {
				t.Fatalf("the declared defaults (%d) fail the layers: %v", n, err)
			}
			if reflect.DeepEqual(plain(got), plain(want)) {
				return
			}
			// Name the keys: one default at a time.
			for k, v := range withDefaults.Config {
				if _, inBase := base.Config[k]; inBase {
					continue
				}
				one := base
				one.Config = maps.Clone(base.Config)
				one.Config[k] = v
				docs, err := synth.Run(one)
				if err != nil || !reflect.DeepEqual(plain(docs), plain(want)) {
					t.Errorf("%s: its declared default %q is not the layer's own (err %v)", k, v, err)
				}
			}
		})
	}
}

// Each Pulumi.example.yaml declares only declared keys, with values of
// the declared types, and its values (with the defaults the CLI adds)
// pass the layers' validation under the mocks, all four in order.
func TestExamplesPassTheLayersValidation(t *testing.T) {
	opts := synth.Options{Env: "example", Root: repotest.Root(t), Layers: layers.All, Config: map[string]string{}}
	for _, l := range layers.All {
		p := project(t, l.Name)
		path := filepath.Join(repotest.Root(t), "stacks", l.Name, "Pulumi.example.yaml")
		st, err := workspace.LoadProjectStack(nil, p, path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		decl := declared(p)
		for key, v := range st.Config {
			k := key.String()
			raw, err := v.Value(config.NopDecrypter)
			if err != nil {
				t.Fatal(err)
			}
			if k == "aws:region" {
				opts.Region = raw
				continue
			}
			d, ok := decl[k]
			if !ok {
				t.Errorf("%s sets %s, which Pulumi.yaml does not declare", path, k)
				continue
			}
			var content any = raw
			if v.Object() {
				if err := json.Unmarshal([]byte(raw), &content); err != nil {
					t.Fatal(err)
				}
			}
			if d.Type != nil && !workspace.ValidateConfigValue(*d.Type, d.Items, content) {
				t.Errorf("%s: %s = %s is not of the declared type %s", path, k, raw, *d.Type)
			}
			opts.Config[k] = raw
		}
		for k, d := range decl {
			if _, set := opts.Config[k]; !set && d.Default != nil {
				opts.Config[k] = cliValue(t, d.Default)
			}
		}
		if opts.Config[l.Project+":environmentSuffix"] != "example" {
			t.Errorf("%s: environmentSuffix is not the file's stack name, example", path)
		}
	}
	// The package the example leaves at its default is a build output;
	// a stand-in takes its place.
	opts.Config[kit.SecretsProject+":rotatorZip"] = mock.RotatorZip(t)
	docs, err := synth.Run(opts)
	if err != nil {
		t.Fatalf("the examples fail the layers' validation: %v", err)
	}
	if len(docs) != len(layers.All) {
		t.Fatalf("%d layers synthesized", len(docs))
	}
}
