package standin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/dbvault/dbvault/stacks/kit/awsfake"
)

// CloudDirEnv names the directory in which the stand-in records the
// resources that exist, across every stack and provider process of one
// rehearsal: the stand-in's "AWS account". Unset, nothing is recorded and no
// cross-stack dependency is enforced.
const CloudDirEnv = "DBVAULT_STANDIN_CLOUD"

// Record is one live resource as the stand-in's cloud knows it.
type Record struct {
	URN  string `json:"urn"`
	Type string `json:"type"`
	ID   string `json:"id"`
	// Handles are the identifiers other resources use to point at this one
	// (its ID and ARN), as far as they are its own and not a copy of another
	// resource's identifier.
	Handles []string `json:"handles"`
	// Refs are the non-secret strings among its inputs: whatever it may
	// point at. Secret values never reach the disk.
	Refs []string `json:"refs"`
	// Owns are the IDs of resources that AWS deletes together with this
	// one: a cluster's RDS-managed master secret, whose deletion takes the
	// secret's rotation schedule (a resource the database layer keeps on
	// delete) with it.
	// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html
	// ("If you delete ... the secret and its associated metadata are also
	// deleted").
	Owns []string `json:"owns,omitempty"`
}

// cloud is the directory of records. Each create writes a new file named by
// the URN's hash and the time, so that a create-before-delete replacement
// briefly holds two records of one URN and the delete removes the older.
// The engine runs one stack's operations in parallel in one provider
// process, so the methods hold mu; stacks are deployed one after another.
type cloud struct {
	dir string
	mu  *sync.Mutex
}

func newCloud(dir string) cloud { return cloud{dir: dir, mu: &sync.Mutex{}} }

func (c cloud) enabled() bool { return c.dir != "" }

func urnKey(urn string) string {
	h := sha256.Sum256([]byte(urn))
	return hex.EncodeToString(h[:12])
}

// put records a created resource.
func (c cloud) put(r Record) error {
	if !c.enabled() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.add(r)
}

// add writes a new record file for r; the caller holds mu.
func (c cloud) add(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%s.%020d.json", urnKey(r.URN), time.Now().UnixNano())
	return os.WriteFile(filepath.Join(c.dir, name), b, 0o600)
}

// files returns the record files of urn, oldest first.
func (c cloud) files(urn string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(c.dir, urnKey(urn)+".*.json"))
	sort.Strings(files)
	return files, err
}

// replace rewrites the newest record of an updated resource (or adds one).
func (c cloud) replace(r Record) error {
	if !c.enabled() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	files, err := c.files(r.URN)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return c.add(r) // put would take mu a second time
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return os.WriteFile(files[len(files)-1], b, 0o600)
}

// exists reports whether urn has a record.
func (c cloud) exists(urn string) (bool, error) {
	if !c.enabled() {
		return true, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	files, err := c.files(urn)
	return len(files) > 0, err
}

// remove deletes the oldest record of urn, unless another live resource
// still points at one of its handles: AWS refuses such a delete
// (DependencyViolation, InvalidDBSubnetGroupStateFault, ...), and so does the
// stand-in, naming the resource that holds on.
func (c cloud) remove(urn string) error {
	if !c.enabled() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	files, err := c.files(urn)
	if err != nil || len(files) == 0 {
		return err
	}
	victim, err := readRecord(files[0])
	if err != nil {
		return err
	}
	all, err := c.List()
	if err != nil {
		return err
	}
	for _, other := range all {
		if other.URN == urn {
			continue
		}
		for _, h := range victim.Handles {
			if slices.Contains(other.Refs, h) {
				return fmt.Errorf("DependencyViolation: %s (%s) is still used by %s", victim.URN, h, other.URN)
			}
		}
	}
	if err := os.Remove(files[0]); err != nil {
		return err
	}
	for _, other := range all {
		if other.URN != urn && slices.Contains(victim.Owns, other.ID) {
			owned, err := c.files(other.URN)
			if err != nil {
				return err
			}
			for _, f := range owned {
				if err := os.Remove(f); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// List returns every live resource recorded in the stand-in's cloud.
func (c cloud) List() ([]Record, error) {
	files, err := filepath.Glob(filepath.Join(c.dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	out := make([]Record, 0, len(files))
	for _, f := range files {
		r, err := readRecord(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted by another provider process meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// LiveResources returns the resources recorded in the cloud directory dir:
// after a full destroy it must be empty.
func LiveResources(dir string) ([]Record, error) {
	if dir == "" {
		return nil, errors.New("standin: no cloud directory")
	}
	return newCloud(dir).List()
}

func readRecord(path string) (Record, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- a file of the stand-in's own cloud directory
	if err != nil {
		return Record{}, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, fmt.Errorf("record %s: %w", filepath.Base(path), err)
	}
	return r, nil
}

// newRecord builds the record of a resource from its inputs and outputs.
func newRecord(urn, typ, id string, inputs, outputs resource.PropertyMap) Record {
	refs := stringsOf(resource.NewObjectProperty(inputs), nil)
	// Handles: the ID and ARN, unless the resource merely copies them from
	// an input that points elsewhere (a rotation's ID is its secret's ARN).
	own := map[string]bool{}
	for k, v := range inputs {
		if slices.Contains(nameKeys, string(k)) {
			continue
		}
		for _, s := range stringsOf(v, nil) {
			own[s] = true
		}
	}
	var handles []string
	for _, h := range []string{id, awsfake.StringInput(outputs, "arn")} {
		if h != "" && !own[h] && !slices.Contains(handles, h) {
			handles = append(handles, h)
		}
	}
	sort.Strings(refs)
	var owns []string
	if typ == "aws:rds/cluster:Cluster" {
		if v, ok := outputs["masterUserSecrets"]; ok && v.IsArray() {
			for _, e := range v.ArrayValue() {
				if e.IsObject() {
					if a := awsfake.StringInput(e.ObjectValue(), "secretArn"); a != "" {
						owns = append(owns, a)
					}
				}
			}
		}
	}
	return Record{URN: urn, Type: typ, ID: id, Handles: handles, Refs: slices.Compact(refs), Owns: owns}
}

// stringsOf collects the non-secret, known strings in v.
func stringsOf(v resource.PropertyValue, acc []string) []string {
	switch {
	case v.IsSecret(), v.IsComputed(), v.IsOutput() && !v.OutputValue().Known:
		return acc
	case v.IsOutput():
		if v.OutputValue().Secret {
			return acc
		}
		return stringsOf(v.OutputValue().Element, acc)
	case v.IsString():
		if s := strings.TrimSpace(v.StringValue()); s != "" {
			acc = append(acc, s)
		}
	case v.IsArray():
		for _, e := range v.ArrayValue() {
			acc = stringsOf(e, acc)
		}
	case v.IsObject():
		for _, e := range v.ObjectValue() {
			acc = stringsOf(e, acc)
		}
	}
	return acc
}
