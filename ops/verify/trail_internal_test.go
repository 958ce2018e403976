package verify

import (
	"testing"

	"github.com/dbvault/dbvault/stacks/kit"
)

// The trail line tells the vault's own trail from the account's by the
// names the layers derive from one kit.Names: a prefixed vault's too, and
// one whose name holds "rotator-" itself.
func TestOwnTrail(t *testing.T) {
	for _, c := range []struct {
		trail, rotator string
		own            bool
		names          kit.Names
	}{
		{"arn:aws:cloudtrail:us-east-1:123456789012:trail/trail-dev", "rotator-dev", true, kit.Names{Suffix: "dev"}},
		{"arn:aws:cloudtrail:us-east-1:123456789012:trail/orders-trail-pr-42", "orders-rotator-pr-42", true, kit.Names{Prefix: "orders-", Suffix: "pr-42"}},
		{"arn:aws:cloudtrail:us-east-1:123456789012:trail/rotator-x-trail-dev", "rotator-x-rotator-dev", true, kit.Names{Prefix: "rotator-x-", Suffix: "dev"}},
		{"arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail", "rotator-dev", false, kit.Names{}},
		{"arn:aws:cloudtrail:us-east-1:123456789012:trail/trail-staging", "rotator-dev", false, kit.Names{}},
		{"org-trail", "rotator-dev", false, kit.Names{}},
	} {
		names, own := ownTrail(c.trail, c.rotator)
		if own != c.own || names != c.names {
			t.Errorf("ownTrail(%s, %s) = %+v, %v; want %+v, %v", c.trail, c.rotator, names, own, c.names, c.own)
		}
	}
	// The bucket is the one the layer names for the vault "orders".
	orders, err := kit.NewNames("orders", "dev")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := ownTrail("arn:aws:cloudtrail:eu-west-1:111122223333:trail/orders-trail-dev", "orders-rotator-dev")
	region, account := arnRegionAccount("arn:aws:cloudtrail:eu-west-1:111122223333:trail/orders-trail-dev")
	if got, want := n.TrailBucketName(region, account), orders.TrailBucketName("eu-west-1", "111122223333"); got != want {
		t.Errorf("bucket %s, want %s", got, want)
	}
}
