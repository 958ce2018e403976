package network

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// SubnetCidrs splits a VPC block into count subnets of subnetBits more bits,
// in address order. The block must be a private (RFC 1918) network address
// with a prefix from MinVpcPrefix to MaxVpcPrefix: a VPC's IPv4 block is
// /16 to /28 ("The smallest VPC you can create uses a /28 netmask ..., and
// the largest uses a /16 netmask",
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpc.html),
// and so is a subnet's. Its errors name Args.VpcCidr.
func SubnetCidrs(block netip.Prefix, count int) ([]netip.Prefix, error) {
	if !block.IsValid() || !block.Addr().Is4() {
		return nil, fmt.Errorf("VpcCidr %q is not an IPv4 CIDR block (e.g. %s)", block, DefaultVpcCidr)
	}
	if block.Masked() != block {
		return nil, fmt.Errorf("VpcCidr %s has host bits set; did you mean %s?", block, block.Masked())
	}
	if block.Bits() < MinVpcPrefix || block.Bits() > MaxVpcPrefix {
		return nil, fmt.Errorf("VpcCidr %s: the prefix must be /%d to /%d (AWS allows /16 at most, and each subnet needs %d more bits)", block, MinVpcPrefix, MaxVpcPrefix, subnetBits)
	}
	if !block.Addr().IsPrivate() {
		return nil, fmt.Errorf("VpcCidr %s is not in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)", block)
	}
	if count > 1<<subnetBits {
		return nil, fmt.Errorf("VpcCidr %s holds at most %d subnets, %d asked (AvailabilityZones)", block, 1<<subnetBits, count)
	}
	a4 := block.Addr().As4()
	base := binary.BigEndian.Uint32(a4[:])
	bits := block.Bits() + subnetBits
	out := make([]netip.Prefix, count)
	for i := range out {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], base+uint32(i)<<(32-bits)) // #nosec G115 -- i < 16 (checked above)
		out[i] = netip.PrefixFrom(netip.AddrFrom4(b), bits)
	}
	return out, nil
}

// DefaultExcludedZoneIDs are zone IDs known to lack what the vault needs,
// per region. use1-az3 is an older us-east-1 zone without current (Nitro)
// instance classes, where Lambda also was historically unavailable; zone
// names map to different physical zones in each account, so it is excluded
// by ID. Zone IDs: https://docs.aws.amazon.com/ram/latest/userguide/working-with-az-ids.html
// (the use1-az3 limitation is reported by practitioners, e.g.
// https://wolfman.dev/posts/exclude-use1-az3/, and not stated by AWS; the
// database layer checks the chosen zones against RDS's orderable zones, and
// `go run mage.go verify` against the deployed subnets.)
var DefaultExcludedZoneIDs = map[string][]string{"us-east-1": {"use1-az3"}}

// ChooseZones picks count zones, in zone-ID order (stable across accounts):
// those not in exclude and offered by every endpoint service. names and ids
// are parallel (GetAvailabilityZones' names and zoneIds).
func ChooseZones(names, ids, exclude []string, serviceZones [][]string, count int) ([]string, []string, error) {
	if len(names) != len(ids) {
		return nil, nil, fmt.Errorf("%d zone names but %d zone IDs", len(names), len(ids))
	}
	type zone struct{ name, id string }
	var ok, skipped []zone
	for i := range names {
		z := zone{names[i], ids[i]}
		usable := !slices.Contains(exclude, z.id)
		for _, offered := range serviceZones {
			usable = usable && slices.Contains(offered, z.name)
		}
		if usable {
			ok = append(ok, z)
		} else {
			skipped = append(skipped, z)
		}
	}
	slices.SortFunc(ok, func(a, b zone) int { return strings.Compare(a.id, b.id) })
	if len(ok) < count {
		return nil, nil, fmt.Errorf("azCount is %d but only %d zones are usable (%v); skipped %v (excluded by excludeZoneIds, or without a Secrets Manager or KMS endpoint): lower azCount or change excludeZoneIds", count, len(ok), ok, skipped)
	}
	var outNames, outIDs []string
	for _, z := range ok[:count] {
		outNames = append(outNames, z.name)
		outIDs = append(outIDs, z.id)
	}
	return outNames, outIDs, nil
}
