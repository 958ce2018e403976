package deploy

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// fakeENIs answers DescribeNetworkInterfaces with answers[i] on the i-th
// lookup (the last answer from then on) and records the groups asked for,
// once a lookup. With perPage, it answers a lookup in pages of that many,
// each but the last with a NextToken, as EC2 may.
type fakeENIs struct {
	answers [][]string
	groups  []string
	regions []string
	refuse  error
	perPage int
}

func (f *fakeENIs) DescribeNetworkInterfaces(_ context.Context, in *ec2.DescribeNetworkInterfacesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	var o ec2.Options
	for _, fn := range optFns {
		fn(&o)
	}
	f.regions = append(f.regions, o.Region)
	if f.refuse != nil {
		return nil, f.refuse
	}
	if in.NextToken == nil { // a lookup's first page
		for _, flt := range in.Filters {
			if aws.ToString(flt.Name) == "group-id" {
				f.groups = append(f.groups, flt.Values...)
			}
		}
	}
	ids := f.answers[min(len(f.groups)-1, len(f.answers)-1)]
	out := &ec2.DescribeNetworkInterfacesOutput{}
	if f.perPage > 0 {
		start := 0
		if in.NextToken != nil {
			start, _ = strconv.Atoi(*in.NextToken)
		}
		end := min(start+f.perPage, len(ids))
		if end < len(ids) {
			out.NextToken = aws.String(strconv.Itoa(end))
		}
		ids = ids[start:end]
	}
	for _, id := range ids {
		out.NetworkInterfaces = append(out.NetworkInterfaces, ec2types.NetworkInterface{NetworkInterfaceId: aws.String(id)})
	}
	return out, nil
}

// eniEnv is a deployed fake environment whose network names the rotator's
// security group, with enis answering the wait.
func eniEnv(t *testing.T, enis *fakeENIs) (*fakeRunner, *Orchestrator, *bytes.Buffer) {
	t.Helper()
	f, o := upAll(t)
	f.outputs["network"][RotatorSecurityGroupOutput] = Output{Value: "sg-rotator"}
	var out bytes.Buffer
	f.calls, o.Out, o.ENIs, o.ENIPoll = nil, &out, enis, time.Nanosecond
	return f, o, &out
}

// The secrets layer's destroy deletes the rotator first, waits until no
// network interface holds the rotator's security group, and only then
// deletes the rest of the layer (the rotator's role with it).
func TestTheRotatorsRoleOutlivesItsNetworkInterfaces(t *testing.T) {
	// The first answer is the look before anything is deleted.
	enis := &fakeENIs{answers: [][]string{{"eni-2", "eni-1"}, {"eni-2", "eni-1"}, {"eni-1"}, {}}}
	f, o, out := eniEnv(t, enis)
	if err := o.DestroyAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, "destroy") {
			order = append(order, c)
		}
	}
	want := []string{"destroytype secrets", "destroy secrets", "destroy database", "destroy kms", "destroy network"}
	if !slices.Equal(order, want) {
		t.Fatalf("destroy order %v, want %v", order, want)
	}
	if len(enis.groups) != 4 || enis.groups[0] != "sg-rotator" || enis.regions[0] != "us-east-1" {
		t.Fatalf("ENI lookups %v in %v, want 4 for sg-rotator in us-east-1", enis.groups, enis.regions)
	}
	for _, line := range []string{"deleted the rotator first (3 resources)", "eni-1, eni-2", "Lambda released the rotator's network interfaces"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("the output lacks %q:\n%s", line, out.String())
		}
	}
}

// When the interfaces outlast the wait, the destroy stops before the role
// goes, says why and what to do, and a second run waits again without
// deleting the rotator twice.
func TestTheDestroyStopsWhileTheInterfacesRemain(t *testing.T) {
	enis := &fakeENIs{answers: [][]string{{"eni-1"}}}
	f, o, _ := eniEnv(t, enis)
	o.ENIWait = time.Nanosecond
	err := o.DestroyAll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "eni-1") || !strings.Contains(err.Error(), "run the destroy again") {
		t.Fatalf("err = %v, want the interfaces named and the way on", err)
	}
	if slices.Contains(f.ops("destroy"), "secrets") || slices.Contains(f.ops("destroy"), "network") {
		t.Fatalf("layers destroyed while the interfaces remain: %v", f.ops("destroy"))
	}
	enis.answers = [][]string{{}}
	out := o.Out.(*bytes.Buffer)
	out.Reset()
	if err := o.DestroyAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.ops("destroy"); !slices.Equal(got, []string{"secrets", "database", "kms", "network"}) {
		t.Fatalf("second run destroyed %v", got)
	}
	if strings.Contains(out.String(), "deleted the rotator first") {
		t.Fatalf("the second run deleted the rotator again:\n%s", out.String())
	}
}

// A refused lookup stops the destroy before anything is deleted, naming
// the permission.
func TestARefusedLookupDeletesNothing(t *testing.T) {
	enis := &fakeENIs{answers: [][]string{{}}, refuse: apiError{"UnauthorizedOperation", "not authorized to perform: ec2:DescribeNetworkInterfaces"}}
	f, o, _ := eniEnv(t, enis)
	err := o.DestroyAll(context.Background())
	if err == nil || !strings.Contains(err.Error(), ENIPermission) {
		t.Fatalf("err = %v, want the permission named", err)
	}
	if got := f.ops("destroytype"); len(got) != 0 || len(f.ops("destroy")) != 0 {
		t.Fatalf("deleted after a refused lookup: %v %v", got, f.ops("destroy"))
	}
}

// Without the lookup (tests, the rehearsal by default) or without a
// rotator security group, the layer goes in one step.
func TestNoWaitWithoutTheLookupOrTheGroup(t *testing.T) {
	f, o := upAll(t)
	f.outputs["network"][RotatorSecurityGroupOutput] = Output{Value: "sg-rotator"}
	if err := o.DestroyAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.ops("destroytype"); len(got) != 0 {
		t.Fatalf("destroytype without ENIs: %v", got)
	}
	enis := &fakeENIs{answers: [][]string{{"eni-1"}}}
	f, o = upAll(t)
	delete(f.outputs["network"], RotatorSecurityGroupOutput)
	o.ENIs, o.ENIPoll, o.ENIWait = enis, time.Nanosecond, time.Nanosecond
	if err := o.DestroyAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(enis.groups) != 0 || len(f.ops("destroytype")) != 0 {
		t.Fatalf("a wait without a rotator security group: %v %v", enis.groups, f.ops("destroytype"))
	}
}

// An interface on a later page still holds the role: the wait reads every
// page of each lookup, and goes on only when none holds the group.
func TestTheWaitReadsEveryPage(t *testing.T) {
	enis := &fakeENIs{perPage: 1, answers: [][]string{{"eni-1", "eni-2", "eni-3"}, {"eni-1", "eni-2", "eni-3"}, {"eni-3"}, {}}}
	_, o, out := eniEnv(t, enis)
	if err := o.DestroyAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "eni-1, eni-2, eni-3") {
		t.Errorf("the wait did not name the interfaces of every page:\n%s", out.String())
	}
	if len(enis.groups) != 4 {
		t.Errorf("%d lookups, want 4: the one left on a later page must be waited for", len(enis.groups))
	}
}
