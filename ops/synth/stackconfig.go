package synth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/dbvault/dbvault/stacks/kit"
)

// StackFiles is the configuration env's stack config files hold
// (stacks/<layer>/Pulumi.<env>.yaml, the files `go run mage.go configure`
// writes and `pulumi` and the deploy targets read), as Options takes it.
type StackFiles struct {
	// Config holds every value the files set, project-qualified.
	Config map[string]string
	// Region is the aws:region the files set ("" when none does).
	Region string
	// Files are the files read, relative to the root.
	Files []string
}

// ReadStackFiles reads the stack config file of env of each layer that has
// one, as Pulumi does (a value of another type than the key's declared one
// is refused, naming the key). A layer without a file adds nothing: its
// keys take their defaults, as a new stack's would. Secret values are
// refused: no layer has secret config, and synth holds no key to decrypt
// one.
func ReadStackFiles(root, env string, layers []kit.Layer) (StackFiles, error) {
	out := StackFiles{Config: map[string]string{}}
	regionFrom := ""
	for _, l := range layers {
		dir := filepath.Join(root, "stacks", l.Name)
		path := filepath.Join(dir, "Pulumi."+env+".yaml")
		rel := filepath.ToSlash(filepath.Join("stacks", l.Name, "Pulumi."+env+".yaml"))
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return StackFiles{}, err
		}
		project, err := workspace.LoadProject(filepath.Join(dir, "Pulumi.yaml"))
		if err != nil {
			return StackFiles{}, fmt.Errorf("stacks/%s/Pulumi.yaml: %w", l.Name, err)
		}
		st, err := workspace.LoadProjectStack(nil, project, path)
		if err != nil {
			return StackFiles{}, fmt.Errorf("%s: %w", rel, err)
		}
		out.Files = append(out.Files, rel)
		keys := make([]config.Key, 0, len(st.Config))
		for k := range st.Config {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, key := range keys {
			v := st.Config[key]
			k := key.String()
			if v.Secure() {
				return StackFiles{}, fmt.Errorf("%s: %s is a secret; synth reads no secret config (no layer declares one)", rel, k)
			}
			raw, err := v.Value(config.NopDecrypter)
			if err != nil {
				return StackFiles{}, fmt.Errorf("%s: %s: %w", rel, k, err)
			}
			if k == "aws:region" {
				if out.Region != "" && raw != out.Region {
					return StackFiles{}, fmt.Errorf("%s sets aws:region %s, %s sets %s: the layers of an environment share one region", regionFrom, out.Region, rel, raw)
				}
				out.Region, regionFrom = raw, rel
				continue
			}
			if d, ok := project.Config[key.Name()]; ok && key.Namespace() == project.Name.String() && d.Type != nil {
				var content any = raw
				if v.Object() {
					if err := json.Unmarshal([]byte(raw), &content); err != nil {
						return StackFiles{}, fmt.Errorf("%s: %s: %w", rel, k, err)
					}
				}
				if !workspace.ValidateConfigValue(*d.Type, d.Items, content) {
					return StackFiles{}, fmt.Errorf("%s: %s = %s is not of the type %s its Pulumi.yaml declares", rel, k, raw, *d.Type)
				}
			}
			out.Config[k] = raw
		}
	}
	return out, nil
}
