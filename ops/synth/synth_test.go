package synth_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/ops/internal/repotest"
	"github.com/dbvault/dbvault/ops/layers"
	"github.com/dbvault/dbvault/ops/synth"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/mock"
)

// options synthesizes every registered layer; the secrets layer (when it is
// registered) gets a small zip of the test's own instead of the rotator's
// build output, so this test does not depend on `mage build`.
func options(t *testing.T) synth.Options {
	t.Helper()
	zipPath := mock.RotatorZip(t)
	return synth.Options{
		Env:    "dev",
		Region: "us-east-1",
		Root:   repotest.Root(t),
		Layers: layers.All,
		Config: map[string]string{kit.SecretsProject + ":rotatorZip": zipPath},
	}
}

func synthTo(t *testing.T, opts synth.Options) (string, []string) {
	t.Helper()
	docs, err := synth.Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	paths, err := synth.Write(dir, docs)
	if err != nil {
		t.Fatal(err)
	}
	return dir, paths
}

func TestSynthIsDeterministic(t *testing.T) {
	opts := options(t)
	dir1, paths := synthTo(t, opts)
	dir2, _ := synthTo(t, opts)
	if len(paths) != len(layers.All) {
		t.Fatalf("%d files for %d layers", len(paths), len(layers.All))
	}
	for _, p := range paths {
		a, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir2, filepath.Base(p)))
		if err != nil {
			t.Fatal(err)
		}
		// The cluster's final snapshot is named with the time of the run
		// that creates it (stacks/database, FinalSnapshotName): masked.
		created := regexp.MustCompile(`-[0-9]{8}-[0-9]{6}"`)
		a, b = created.ReplaceAll(a, []byte(`-<created>"`)), created.ReplaceAll(b, []byte(`-<created>"`))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs", filepath.Base(p))
		}
	}
	// No temporary files left behind by the atomic write.
	entries, _ := os.ReadDir(dir1)
	if len(entries) != len(layers.All) {
		t.Errorf("%d entries in the output folder, want %d", len(entries), len(layers.All))
	}
}

// file is the synth format as docs/synth.md describes it.
type file struct {
	Layer     string            `json:"layer"`
	Project   string            `json:"project"`
	Stack     string            `json:"stack"`
	Config    map[string]string `json:"config"`
	Resources []fileResource    `json:"resources"`
	Providers []fileResource    `json:"providers"`
	Outputs   map[string]any    `json:"outputs"`
}

type fileResource struct {
	URN         string            `json:"urn"`
	Type        string            `json:"type"`
	Name        string            `json:"name"`
	Parent      string            `json:"parent"`
	Inputs      map[string]any    `json:"inputs"`
	Provider    string            `json:"provider"`
	DefaultTags map[string]string `json:"defaultTags"`
	Options     *struct {
		IgnoreChanges  []string `json:"ignoreChanges"`
		Protect        *bool    `json:"protect"`
		RetainOnDelete *bool    `json:"retainOnDelete"`
		DependsOn      []string `json:"dependsOn"`
	} `json:"options"`
}

// Every AWS resource of every layer goes through the layer's one AWS
// provider, whose defaultTags are the compliance tags: that is where the
// policy gate reads them.
func TestEveryResourceGoesThroughTheTaggingProvider(t *testing.T) {
	_, paths := synthTo(t, options(t))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var f file
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		if len(f.Providers) != 1 || f.Providers[0].Type != kit.ProviderTypeAWS {
			t.Fatalf("%s: providers %+v, want the layer's one AWS provider", f.Layer, f.Providers)
		}
		want := map[string]string{"Environment": "dev", "CostCenter": kit.DefaultCostCenter, "Compliance": kit.DefaultCompliance}
		n := 0
		for _, r := range f.Resources {
			if !strings.HasPrefix(r.Type, "aws:") {
				continue
			}
			n++
			if r.Provider != f.Providers[0].URN || !maps.Equal(r.DefaultTags, want) {
				t.Errorf("%s %s %s: provider %q with defaultTags %v, want %q with %v", f.Layer, r.Type, r.Name, r.Provider, r.DefaultTags, f.Providers[0].URN, want)
			}
		}
		if n == 0 {
			t.Errorf("%s: no AWS resources", f.Layer)
		}
	}
}

func TestFilesParseAndHoldNoSecretOrLocalPath(t *testing.T) {
	opts := options(t)
	_, paths := synthTo(t, opts)
	files := map[string]file{}
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if strings.Contains(strings.ToLower(text), `"masterpassword"`) || strings.Contains(text, `"password"`) {
			t.Errorf("%s has a password field", p)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		var f file
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("%s does not parse as a synth file: %v", p, err)
		}
		// The test's own zip path is in the config it passed; nowhere else
		// may a local path appear.
		graph, _ := json.Marshal([]any{f.Resources, f.Outputs})
		if strings.Contains(string(graph), opts.Root) || strings.Contains(string(graph), os.TempDir()) {
			t.Errorf("%s holds an absolute local path", p)
		}
		l := layers.All[i]
		if f.Layer != l.Name || f.Project != l.Project || f.Stack != "dev" || filepath.Base(p) != l.Name+".json" {
			t.Errorf("%s: layer %q project %q stack %q", p, f.Layer, f.Project, f.Stack)
		}
		if f.Config[l.Project+":environmentSuffix"] != "dev" || f.Config["aws:region"] != "us-east-1" {
			t.Errorf("%s: config %v", p, f.Config)
		}
		if len(f.Resources) == 0 || len(f.Outputs) == 0 {
			t.Errorf("%s: %d resources, %d outputs", p, len(f.Resources), len(f.Outputs))
		}
		urns := make([]string, 0, len(f.Resources))
		for _, r := range f.Resources {
			urns = append(urns, r.URN)
			if r.URN == "" || r.Type == "" || r.Name == "" || r.Parent == "" || r.Inputs == nil || r.Options == nil ||
				r.Options.IgnoreChanges == nil || r.Options.DependsOn == nil || r.Options.Protect == nil || r.Options.RetainOnDelete == nil {
				t.Errorf("%s: resource %q lacks a field of the format", p, r.URN)
			}
		}
		if !slices.IsSorted(urns) {
			t.Errorf("%s: resources not in URN order", p)
		}
		files[l.Name] = f
	}

	// Each StackReference was answered with the earlier layer's outputs: the
	// database's subnet group is on the network's subnets.
	if db, ok := files["database"]; ok {
		if _, ok := db.Config[kit.DatabaseProject+":masterPassword"]; ok {
			t.Error("the database layer's config has a masterPassword")
		}
		want := files["network"].Outputs["privateSubnetIds"]
		found := false
		for _, r := range db.Resources {
			if r.Type == "aws:rds/subnetGroup:SubnetGroup" {
				found = true
				if got := r.Inputs["subnetIds"]; !jsonEqual(got, want) {
					t.Errorf("database subnet group on %v, want the network's %v", got, want)
				}
			}
		}
		if !found {
			t.Error("database layer has no subnet group")
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y) && len(x) > 4
}

func TestBadEnvironmentIsRefused(t *testing.T) {
	opts := options(t)
	opts.Env = "Dev_1"
	if _, err := synth.Run(opts); err == nil || !strings.Contains(err.Error(), "ENV") {
		t.Fatalf("error = %v, want one naming ENV", err)
	}
}

// No layer exports a secret: RDS keeps the master password and the rotator
// the application passwords, both in Secrets Manager only.
func TestNoSecretOutputs(t *testing.T) {
	docs, err := synth.Run(options(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		for k, v := range d.Outputs {
			if v == "[secret]" || strings.Contains(strings.ToLower(k), "password") {
				t.Errorf("%s output %s = %v", d.Layer, k, v)
			}
		}
	}
}
