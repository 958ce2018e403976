package audit

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// policyDir is the project's policy pack, relative to this package.
const policyDir = "../../policy"

var (
	packOnce sync.Once
	pack     *Pack
	packErr  error
)

// loadPack compiles the policy pack once for all tests.
func loadPack(t *testing.T) *Pack {
	t.Helper()
	packOnce.Do(func() { pack, packErr = Load(context.Background(), policyDir) })
	if packErr != nil {
		t.Fatal(packErr)
	}
	return pack
}

// doc is a synth document under test.
type doc map[string]any

// fixture returns a fresh copy of the compliant fixture of a layer.
func fixture(t *testing.T, layer string) doc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "compliant", layer+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var d doc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d doc) resources() []any { return d["resources"].([]any) }

// res returns the resource of type typ and logical name name.
func (d doc) res(t *testing.T, typ, name string) map[string]any {
	t.Helper()
	for _, r := range d.resources() {
		m := r.(map[string]any)
		if m["type"] == typ && m["name"] == name {
			return m
		}
	}
	t.Fatalf("fixture has no %s %q", typ, name)
	return nil
}

// in returns the inputs of the resource of type typ and name name.
func (d doc) in(t *testing.T, typ, name string) map[string]any {
	t.Helper()
	return d.res(t, typ, name)["inputs"].(map[string]any)
}

// add registers a new resource with the given inputs.
func (d doc) add(typ, name string, inputs map[string]any) {
	d["resources"] = append(d.resources(), map[string]any{
		"urn":         "urn:pulumi:dev::test::" + typ + "::" + name,
		"type":        typ,
		"name":        name,
		"parent":      "",
		"inputs":      inputs,
		"provider":    "urn:pulumi:dev::test::pulumi:providers:aws::aws",
		"defaultTags": defaultTags(),
		"options":     map[string]any{"ignoreChanges": []any{}, "protect": false, "retainOnDelete": false, "dependsOn": []any{}},
	})
}

// defaultTags are the compliance tags, as the stack's provider carries them.
func defaultTags() map[string]any {
	return map[string]any{"Environment": "dev", "CostCenter": "platform-security", "Compliance": "soc2"}
}

// defaultTagsOf returns a resource's defaultTags (its provider's).
func defaultTagsOf(r map[string]any) map[string]any { return r["defaultTags"].(map[string]any) }

// remove drops the resource of type typ and name name.
func (d doc) remove(t *testing.T, typ, name string) {
	t.Helper()
	d.res(t, typ, name) // fails when absent
	var kept []any
	for _, r := range d.resources() {
		m := r.(map[string]any)
		if !(m["type"] == typ && m["name"] == name) {
			kept = append(kept, r)
		}
	}
	d["resources"] = kept
}

// editPolicy parses the JSON policy at inputs[key], lets edit change it and
// writes it back as a JSON string, as synth holds it.
func editPolicy(t *testing.T, inputs map[string]any, key string, edit func(p map[string]any)) {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal([]byte(inputs[key].(string)), &p); err != nil {
		t.Fatal(err)
	}
	edit(p)
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	inputs[key] = string(b)
}

// statement returns statement i of policy p.
func statement(p map[string]any, i int) map[string]any {
	return p["Statement"].([]any)[i].(map[string]any)
}

// addStatement appends a statement to policy p.
func addStatement(p map[string]any, st map[string]any) {
	p["Statement"] = append(p["Statement"].([]any), st)
}

// tags returns a resource's own tags: Name when name is not empty (the
// compliance tags come from the provider's defaultTags), nil otherwise.
func tags(name string) map[string]any {
	if name == "" {
		return nil
	}
	return map[string]any{"Name": name}
}

// ruleSet returns the distinct rule ids of findings.
func ruleSet(fs []Finding) map[string]bool {
	out := map[string]bool{}
	for _, f := range fs {
		out[f.Rule] = true
	}
	return out
}

// Resource types only production layers hold.
const (
	tVersioning = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	tObjectLock = "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2"
	tLifecycle  = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
)

// Environment classes (config environmentClass, kit).
const (
	ephemeral  = "ephemeral"
	production = "production"
)

// productionFixture returns the compliant fixture of a layer as kit builds
// it with environmentClass production: the class in the config; protect on
// the cluster, its instances, the keys, the secrets and the bucket; deletion
// protection and a final snapshot; 30-day recovery and deletion windows;
// logs kept at least 365 days; the trail's bucket never force-destroyed,
// versioned and under a year of Object Lock (governance mode).
func productionFixture(t *testing.T, layer string) doc {
	t.Helper()
	d := fixture(t, layer)
	d["config"].(map[string]any)[d["project"].(string)+":environmentClass"] = production
	var buckets []string
	for _, r := range d.resources() {
		m := r.(map[string]any)
		in := m["inputs"].(map[string]any)
		switch m["type"] {
		case tCluster, tInstance, tKey, tSecret, tBucket:
			m["options"].(map[string]any)["protect"] = true
		}
		switch m["type"] {
		case tCluster:
			in["deletionProtection"] = true
			in["skipFinalSnapshot"] = false
			in["finalSnapshotIdentifier"] = "aurora-cluster-final-dev"
		case tKey:
			in["deletionWindowInDays"] = 30
		case tSecret:
			in["recoveryWindowInDays"] = 30
		case tLogGroup:
			if n, _ := in["retentionInDays"].(float64); n < 365 {
				in["retentionInDays"] = 365
			}
		case tBucket:
			in["forceDestroy"] = false
			in["objectLockEnabled"] = true
			buckets = append(buckets, in["bucket"].(string))
		case tLifecycle:
			in["rules"] = lifecycleRules(365)
		}
	}
	for _, b := range buckets {
		d.add(tVersioning, "trail-bucket-versioning", map[string]any{"bucket": b, "versioningConfiguration": map[string]any{"status": "Enabled"}})
		d.add(tObjectLock, "trail-bucket-object-lock", map[string]any{"bucket": b, "rule": map[string]any{"defaultRetention": map[string]any{"mode": "GOVERNANCE", "days": 365}}})
	}
	return d
}

// lifecycleRules is the trail bucket's lifecycle, expiring log files after
// days.
func lifecycleRules(days int) []any {
	return []any{map[string]any{
		"id": "expire-trail-log-files", "status": "Enabled", "filter": map[string]any{"prefix": "AWSLogs/"},
		"expiration": map[string]any{"days": days}, "noncurrentVersionExpiration": map[string]any{"noncurrentDays": 1},
	}}
}

// layerFixture is the compliant fixture of a layer in class.
func layerFixture(t *testing.T, layer, class string) doc {
	t.Helper()
	if class == production {
		return productionFixture(t, layer)
	}
	return fixture(t, layer)
}

// options returns the resource options of the resource of type typ and name name.
func (d doc) options(t *testing.T, typ, name string) map[string]any {
	t.Helper()
	return d.res(t, typ, name)["options"].(map[string]any)
}
