// Package layers is the registry of the vault's layers in deploy order. Synth,
// the deploy orchestration and the rehearsal take the list from here, so a
// layer added to the vault is added in one place.
package layers

import (
	"github.com/dbvault/dbvault/stacks/database"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kms"
	"github.com/dbvault/dbvault/stacks/network"
	"github.com/dbvault/dbvault/stacks/secrets"
)

// All lists the layers in deploy order: each layer references only layers
// before it (destroy runs the list backwards).
var All = []kit.Layer{network.Layer, kms.Layer, database.Layer, secrets.Layer}

// ByName returns the layer called name (network, kms, ...).
func ByName(name string) (kit.Layer, bool) {
	for _, l := range All {
		if l.Name == name {
			return l, true
		}
	}
	return kit.Layer{}, false
}
