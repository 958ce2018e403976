package mock

import (
	"maps"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// SecretPlaceholder stands in for every secret value in Plain's result, so
// that no secret can leak into a test's failure message or a synth file.
const SecretPlaceholder = "[secret]"

// Plain converts a property value to plain JSON-able Go values: objects to
// map[string]any, arrays to []any, numbers to float64, secrets to
// SecretPlaceholder, unknowns to nil, resource references to their URN, and
// assets and archives to their path (passed through assetPath when it is
// not nil) or URI, a text asset to its text.
func Plain(v resource.PropertyValue, assetPath func(string) string) any {
	switch {
	case v.IsNull() || v.IsComputed():
		return nil
	case v.IsSecret():
		return SecretPlaceholder
	case v.IsOutput():
		o := v.OutputValue()
		if o.Secret {
			return SecretPlaceholder
		}
		if !o.Known {
			return nil
		}
		return Plain(o.Element, assetPath)
	case v.IsBool():
		return v.BoolValue()
	case v.IsNumber():
		return v.NumberValue()
	case v.IsString():
		return v.StringValue()
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = Plain(e, assetPath)
		}
		return out
	case v.IsObject():
		return PlainMap(v.ObjectValue(), assetPath)
	case v.IsAsset():
		a := v.AssetValue()
		if a.IsText() {
			return a.Text
		}
		return pathOrURI(a.Path, a.URI, assetPath)
	case v.IsArchive():
		a := v.ArchiveValue()
		if a.Path == "" && a.URI == "" {
			// An archive of assets: its members by name.
			members := map[string]any{}
			for k, m := range a.Assets {
				members[k] = Plain(resource.NewPropertyValue(m), assetPath)
			}
			return members
		}
		return pathOrURI(a.Path, a.URI, assetPath)
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	}
	return nil
}

// PlainMap converts a property map with Plain.
func PlainMap(m resource.PropertyMap, assetPath func(string) string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[string(k)] = Plain(v, assetPath)
	}
	return out
}

func pathOrURI(path, uri string, assetPath func(string) string) string {
	if path != "" {
		if assetPath != nil {
			return assetPath(path)
		}
		return path
	}
	return uri
}

// Input returns the plain value of a resource's input key (nil when absent).
func (r Resource) Input(key string) any {
	v, ok := r.Inputs[resource.PropertyKey(key)]
	if !ok {
		return nil
	}
	return Plain(v, nil)
}

// OwnTags returns the resource's own tags input as strings (nil when it has
// none).
func (r Resource) OwnTags() map[string]string {
	m, ok := r.Input("tags").(map[string]any)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, _ := v.(string)
		out[k] = s
	}
	return out
}

// Tags returns the tags the resource carries in AWS: its provider's
// defaultTags with its own tags over them, as the AWS provider merges them
// into tagsAll (nil when there are none).
func (r Resource) Tags() map[string]string {
	own := r.OwnTags()
	if len(r.DefaultTags) == 0 {
		return own
	}
	out := maps.Clone(r.DefaultTags)
	maps.Copy(out, own)
	return out
}

// Types returns the distinct types of the resources, sorted.
func (r Result) Types() []string {
	seen := map[string]bool{}
	for _, res := range r.Resources {
		seen[res.Type] = true
	}
	out := make([]string, 0, len(seen))
	for t := range seen {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
