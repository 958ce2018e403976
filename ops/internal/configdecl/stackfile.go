package configdecl

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// StackFileName is a stack's config file in its layer's folder, the file
// `pulumi` and the deploy targets read for stack env.
func StackFileName(root, layer, env string) string {
	return filepath.Join(root, "stacks", layer, "Pulumi."+env+".yaml")
}

// StackFile is a new stack config file for environment env of layer l:
// environmentSuffix set to env (the one key without a default), and every
// other key commented out, with its type, default and rule above it.
//
// The keys stay commented out, not set to their defaults: a key the file
// does not set takes the project's declared default when the stack runs
// (Pulumi applies it), as `pulumi config` expects of a stack file that
// holds only what its owner chose. So a default a later release changes
// reaches the stack, and deployAll may still seed what it seeds (the
// region from AWS_REGION, the tags from TAG_*) where the file is silent;
// a default written out would be a choice nobody made.
func StackFile(l Layer, env string) []byte {
	var b strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	line("# Config of stack %s of layer %s (project %s), written by", env, l.Name, l.Project)
	line("# `ENV=%s go run mage.go configure` from stacks/%s/Pulumi.yaml.", env, l.Name)
	line("# Pulumi (`pulumi up` in this folder), deployAll, up:%s and preview:%s", l.Name, l.Name)
	line("# deploy what it says; synth and audit judge it offline.")
	line("#")
	line("# A commented-out key takes its declared default. To choose a value,")
	line("# uncomment the key and edit it. Choose before the first deploy: a later")
	line("# change of some keys replaces resources (vpcCidr the VPC, an existing* key")
	line("# what the layer created); the plan names them.")
	line("config:")
	// environmentSuffix, the key set, comes last: the comments above a
	// key belong to it, so Pulumi keeps them in place, indented, when it
	// rewrites the file (stack init adds encryptionsalt, config set a key);
	// comments after the last key would move out of config.
	var required []Key
	for _, k := range l.Keys {
		if k.Default == nil {
			required = append(required, k)
			continue
		}
		line("  # %s (%s, default %s):", k.Name, k.TypeName(), Value(k.Default))
		b.WriteString(comment(k.Description))
		line("  # %s: %s", l.Qualified(k), Value(k.Default))
		line("  #")
	}
	line("  # aws:region (string, default: AWS_REGION when deployAll creates the stack, else us-east-1):")
	b.WriteString(comment("The region of every resource of the layer; the same in all four layers."))
	line("  # aws:region: us-east-1")
	for _, k := range required {
		line("  #")
		line("  # %s (%s, required):", k.Name, k.TypeName())
		b.WriteString(comment(k.Description))
		if k.Name == "environmentSuffix" {
			line("  %s: %s", l.Qualified(k), Value(env))
		} else {
			line("  # %s: ", l.Qualified(k))
		}
	}
	return []byte(b.String())
}

// comment wraps text as indented YAML comment lines of at most 100 columns.
func comment(text string) string {
	const width = 100
	prefix := "  #   "
	var b strings.Builder
	cur := prefix
	for _, w := range strings.Fields(text) {
		if len(cur) > len(prefix) && len(cur)+1+len(w) > width {
			b.WriteString(cur + "\n")
			cur = prefix
		}
		if len(cur) > len(prefix) {
			cur += " "
		}
		cur += w
	}
	if len(cur) > len(prefix) {
		b.WriteString(cur + "\n")
	}
	return b.String()
}

// ErrExists is returned by WriteStackFile for a file already there.
var ErrExists = errors.New("exists")

// WriteStackFile writes l's stack file for env under root unless a file is
// there: an existing file holds someone's choices (or a stack's
// encryption salt), so it is never rewritten, merged into or touched;
// its path comes back with ErrExists.
func WriteStackFile(root string, l Layer, env string) (string, error) {
	path := StackFileName(root, l.Name, env)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644) // #nosec G302 G304 -- stack config is read by the team, like Pulumi.yaml beside it
	if errors.Is(err, fs.ErrExist) {
		return path, ErrExists
	}
	if err != nil {
		return path, err
	}
	if _, err := f.Write(StackFile(l, env)); err != nil {
		_ = f.Close()
		return path, fmt.Errorf("writing %s: %w", path, err)
	}
	return path, f.Close()
}
