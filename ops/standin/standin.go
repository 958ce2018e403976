// Package standin is an AWS resource provider for the offline rehearsal: a
// binary named pulumi-resource-aws that the real Pulumi engine loads instead
// of the AWS provider. It creates nothing: it keeps each resource's inputs
// as its state and adds the outputs AWS would compute, with the same code the
// SDK mocks use (stacks/kit/awsfake), so tests, synth and the rehearsal see
// the same IDs and ARNs. It enforces what the engine alone cannot: the
// inputs AWS requires, the inputs AWS can only change by replacement, and
// (with CloudDirEnv set) that nothing is deleted while another stack's
// resource still points at it.
package standin

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/dbvault/dbvault/stacks/kit/awsfake"
)

// Name is the provider's package name: the engine loads the binary
// pulumi-resource-<Name>.
const Name = "aws"

// Version is the version the stand-in reports: that of the pulumi-aws SDK
// the stacks are built with (github.com/pulumi/pulumi-aws/sdk/v6), which is
// the plugin version the engine asks for.
const Version = "6.83.4"

// Provider is the stand-in resource provider. The zero value is not usable;
// call New.
type Provider struct {
	pulumirpc.UnimplementedResourceProviderServer

	cloud cloud

	mu  sync.Mutex
	env awsfake.Env
}

// New returns a stand-in recording live resources in cloudDir ("" records
// nothing). Its region comes from Configure; the account is awsfake's.
func New(cloudDir string) *Provider {
	return &Provider{cloud: newCloud(cloudDir), env: awsfake.Default()}
}

// FromEnv returns a stand-in configured from the process environment
// (CloudDirEnv), as the engine starts it.
func FromEnv() *Provider { return New(os.Getenv(CloudDirEnv)) }

func (p *Provider) aws() awsfake.Env {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.env
}

var (
	unmarshal = plugin.MarshalOptions{Label: "standin", KeepUnknowns: true, KeepSecrets: true, KeepResources: true}
	marshal   = plugin.MarshalOptions{Label: "standin", KeepUnknowns: true, KeepSecrets: true}
)

func props(s *structpb.Struct) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	return plugin.UnmarshalProperties(s, unmarshal)
}

func pb(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, marshal)
}

// GetPluginInfo reports the stand-in's version.
func (p *Provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

// GetSchema returns a minimal package schema: Go programs carry their own
// types, so the engine needs no more than the package's name and version.
func (p *Provider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":%q,"version":%q}`, Name, Version)}, nil
}

// CheckConfig validates the provider's configuration: like the real
// provider, it needs a region (aws:region, or AWS_REGION in the environment).
func (p *Provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := props(req.GetNews())
	if err != nil {
		return nil, fmt.Errorf("checkConfig: %w", err)
	}
	if v, ok := news["region"]; ok && v.IsComputed() {
		return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
	}
	if awsfake.StringInput(news, "region") == "" && os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: []*pulumirpc.CheckFailure{{
			Property: "region",
			Reason:   "missing region: set aws:region in the stack's config or AWS_REGION",
		}}}, nil
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

// DiffConfig reports a change of the provider's configuration as the real
// provider does: a new region replaces the provider, and so every resource
// it manages; any other change (defaultTags, for one) is an update. The
// version the engine adds is not configuration. Source: pulumi-aws
// provider/resources.go, Config, where only "region" has
// ForcesProviderReplace, read by pulumi-terraform-bridge's configDiffer
// (pkg/tfbridge/provider.go); the engine asks DiffConfig of default and
// explicit providers alike (pulumi/pulumi#18509).
func (p *Provider) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := props(req.GetOldInputs())
	if err != nil {
		return nil, fmt.Errorf("diffConfig: %w", err)
	}
	if req.GetOldInputs() == nil {
		if olds, err = props(req.GetOlds()); err != nil {
			return nil, fmt.Errorf("diffConfig: %w", err)
		}
	}
	news, err := props(req.GetNews())
	if err != nil {
		return nil, fmt.Errorf("diffConfig: %w", err)
	}
	delete(olds, "version")
	delete(news, "version")
	return diff(olds, news, nil, []string{"region"}), nil
}

// Configure takes the region from the provider's configuration and accepts
// secrets, so that secret inputs reach Create still marked secret and leave
// it so.
func (p *Provider) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	args, err := props(req.GetArgs())
	if err != nil {
		return nil, fmt.Errorf("configure: %w", err)
	}
	region := awsfake.StringInput(args, "region")
	for _, env := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if region == "" {
			region = os.Getenv(env)
		}
	}
	if region != "" {
		p.mu.Lock()
		p.env.Region = region
		p.mu.Unlock()
	}
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true}, nil
}

// Check validates a resource's inputs: each input AWS requires for its type
// must be present, else the failure names the resource. It returns the
// inputs unchanged (awsfake derives auto-names deterministically later).
func (p *Provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := props(req.GetNews())
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", req.GetUrn(), err)
	}
	typ, name := typeAndName(req.GetUrn(), req.GetType(), req.GetName())
	var failures []*pulumirpc.CheckFailure
	for _, k := range missing(typ, news) {
		failures = append(failures, &pulumirpc.CheckFailure{
			Property: k,
			Reason:   fmt.Sprintf("%s %q: missing required input %q (AWS refuses to create it without one)", typ, name, k),
		})
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
}

// missing returns the required inputs of typ that news lacks. An unknown
// value (during a preview) counts as present.
func missing(typ string, news resource.PropertyMap) []string {
	present := func(k string) bool {
		v, ok := news[resource.PropertyKey(k)]
		if !ok || v.IsNull() {
			return false
		}
		if v.IsSecret() {
			v = v.SecretValue().Element
		}
		switch {
		case v.IsString():
			return v.StringValue() != ""
		case v.IsArray():
			return len(v.ArrayValue()) > 0
		}
		return true
	}
	var out []string
	for _, k := range rules[typ].required {
		if !present(k) {
			out = append(out, k)
		}
	}
	// Aurora needs a master password at create, unless AWS manages it or the
	// cluster comes from a snapshot or another cluster.
	if typ == "aws:rds/cluster:Cluster" && !present("masterPassword") && !present("manageMasterUserPassword") &&
		!present("snapshotIdentifier") && !present("replicationSourceIdentifier") && !present("globalClusterIdentifier") {
		out = append(out, "masterPassword")
	}
	return out
}

// Diff compares a resource's old inputs with its new ones. The engine has
// already put the old values back for inputs under ignoreChanges; the
// listed paths are dropped again here so that a top-level ignored input can
// never show as a change. Inputs AWS cannot update make it a replace.
func (p *Provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := props(req.GetOldInputs())
	if err == nil && req.GetOldInputs() == nil {
		olds, err = props(req.GetOlds())
	}
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", req.GetUrn(), err)
	}
	news, err := props(req.GetNews())
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", req.GetUrn(), err)
	}
	typ, _ := typeAndName(req.GetUrn(), req.GetType(), req.GetName())
	// Keys the provider reads back normalised are planned against the
	// state, as the real provider plans them.
	if rb, ok := readBack[typ]; ok {
		state, err := props(req.GetOlds())
		if err != nil {
			return nil, fmt.Errorf("diff %s: %w", req.GetUrn(), err)
		}
		olds = olds.Copy()
		for _, k := range rb.keys {
			if v, ok := state[resource.PropertyKey(k)]; ok {
				olds[resource.PropertyKey(k)] = v
			} else {
				delete(olds, resource.PropertyKey(k))
			}
		}
	}
	return diff(olds, news, req.GetIgnoreChanges(), rules[typ].replaceOn), nil
}

// diff returns the engine's view of the change from olds to news.
func diff(olds, news resource.PropertyMap, ignore, replaceOn []string) *pulumirpc.DiffResponse {
	keys := map[resource.PropertyKey]bool{}
	for k := range olds {
		keys[k] = true
	}
	for k := range news {
		keys[k] = true
	}
	resp := &pulumirpc.DiffResponse{
		Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true, DetailedDiff: map[string]*pulumirpc.PropertyDiff{},
	}
	for k := range keys {
		name := string(k)
		if strings.HasPrefix(name, "__") || slices.Contains(ignore, name) {
			continue
		}
		o, inOld := olds[k]
		n, inNew := news[k]
		if inOld && inNew && equal(o, n) {
			continue
		}
		if (!inOld || o.IsNull()) && (!inNew || n.IsNull()) {
			continue
		}
		replace := slices.Contains(replaceOn, name)
		kind := pulumirpc.PropertyDiff_UPDATE
		switch {
		case !inOld || o.IsNull():
			kind = pulumirpc.PropertyDiff_ADD
		case !inNew || n.IsNull():
			kind = pulumirpc.PropertyDiff_DELETE
		}
		if replace {
			kind += 1 // each kind's _REPLACE variant follows it
			resp.Replaces = append(resp.Replaces, name)
		}
		resp.Diffs = append(resp.Diffs, name)
		resp.DetailedDiff[name] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	sort.Strings(resp.Diffs)
	sort.Strings(resp.Replaces)
	if len(resp.Diffs) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	if len(resp.Replaces) > 0 {
		for _, k := range nameKeys {
			if awsfake.StringInput(news, k) != "" {
				resp.DeleteBeforeReplace = true
			}
		}
	}
	return resp
}

// equal compares two values as AWS would see them: a change of secretness
// alone changes nothing in AWS; an unknown value may be anything.
func equal(a, b resource.PropertyValue) bool {
	if a.ContainsUnknowns() || b.ContainsUnknowns() {
		return false
	}
	return unwrap(a).DeepEquals(unwrap(b))
}

func unwrap(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return unwrap(v.SecretValue().Element)
	case v.IsOutput():
		return unwrap(v.OutputValue().Element)
	case v.IsArray():
		arr := make([]resource.PropertyValue, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			arr[i] = unwrap(e)
		}
		return resource.NewArrayProperty(arr)
	case v.IsObject():
		obj := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			obj[k] = unwrap(e)
		}
		return resource.NewObjectProperty(obj)
	}
	return v
}

// Create computes the resource's ID and outputs with awsfake and, unless it
// is a preview, records the resource in the stand-in's cloud.
func (p *Provider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	inputs, err := props(req.GetProperties())
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", req.GetUrn(), err)
	}
	typ, id, outputs := p.resource(req.GetUrn(), req.GetType(), req.GetName(), inputs)
	if !req.GetPreview() {
		if err := p.cloud.put(newRecord(req.GetUrn(), typ, id, inputs, outputs)); err != nil {
			return nil, fmt.Errorf("create %s: record: %w", req.GetUrn(), err)
		}
	}
	s, err := pb(outputs)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", req.GetUrn(), err)
	}
	if req.GetPreview() {
		id = ""
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: s}, nil
}

// Update recomputes the outputs from the new inputs; the ID stays.
func (p *Provider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	inputs, err := props(req.GetNews())
	if err != nil {
		return nil, fmt.Errorf("update %s: %w", req.GetUrn(), err)
	}
	typ, _, outputs := p.resource(req.GetUrn(), req.GetType(), req.GetName(), inputs)
	outputs["id"] = resource.NewProperty(req.GetId())
	if !req.GetPreview() {
		if err := p.cloud.replace(newRecord(req.GetUrn(), typ, req.GetId(), inputs, outputs)); err != nil {
			return nil, fmt.Errorf("update %s: record: %w", req.GetUrn(), err)
		}
	}
	s, err := pb(outputs)
	if err != nil {
		return nil, fmt.Errorf("update %s: %w", req.GetUrn(), err)
	}
	return &pulumirpc.UpdateResponse{Properties: s}, nil
}

// resource is the type, ID and outputs awsfake gives the resource for
// inputs, the outputs AWS reads back normalised (readBack).
func (p *Provider) resource(urn, reqType, reqName string, inputs resource.PropertyMap) (typ, id string, outputs resource.PropertyMap) {
	typ, name := typeAndName(urn, reqType, reqName)
	id, outputs = p.aws().Resource(typ, name, inputs)
	if rb, ok := readBack[typ]; ok {
		rb.normalise(outputs)
	}
	return typ, id, outputs
}

// Read returns the resource as recorded: the state is what AWS holds, since
// nothing else changes it. A resource missing from the stand-in's cloud is
// reported gone (empty ID), as AWS would after a delete outside Pulumi.
func (p *Provider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	ok, err := p.cloud.exists(req.GetUrn())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", req.GetUrn(), err)
	}
	if !ok {
		return &pulumirpc.ReadResponse{}, nil
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

// Delete removes the resource from the stand-in's cloud, and fails like AWS
// while another live resource still points at it.
func (p *Provider) Delete(_ context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	if err := p.cloud.remove(req.GetUrn()); err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "delete %s: %v", req.GetUrn(), err)
	}
	return &emptypb.Empty{}, nil
}

// Invoke answers the provider functions the layers call (awsfake.Invoke);
// one it does not model fails with its token.
func (p *Provider) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	args, err := props(req.GetArgs())
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", req.GetTok(), err)
	}
	ret, err := p.aws().Invoke(req.GetTok(), args)
	if err != nil {
		return nil, status.Error(codes.Unimplemented, err.Error())
	}
	s, err := pb(ret)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", req.GetTok(), err)
	}
	return &pulumirpc.InvokeResponse{Return: s}, nil
}

// Cancel has nothing to stop: every operation returns at once.
func (p *Provider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// typeAndName returns the resource's type and logical name: from the
// request when the engine sends them, else from the URN.
func typeAndName(urn, typ, name string) (string, string) {
	u := resource.URN(urn)
	if typ == "" && u.IsValid() {
		typ = string(u.Type())
	}
	if name == "" && u.IsValid() {
		name = u.Name()
	}
	return typ, name
}
