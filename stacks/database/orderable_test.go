package database_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/dbvault/dbvault/stacks/database"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
)

const orderableToken = "aws:rds/getOrderableDbInstance:getOrderableDbInstance"

// RDS lists each Aurora class once per storage type; the provider's data
// source refuses a lookup that leaves both. The layer's lookup leaves one.
func TestOrderableLookupNarrowsToOneOption(t *testing.T) {
	fake := awsfake.Default()
	unnarrowed := resource.NewPropertyMapFromMap(map[string]any{
		"engine":        database.Engine,
		"engineVersion": database.DefaultEngineVersion,
		"instanceClass": database.DefaultInstanceClass,
	})
	if _, err := fake.Invoke(orderableToken, unnarrowed); err == nil || !strings.Contains(err.Error(), "multiple RDS DB Instance Classes") {
		t.Fatalf("engine, version and class alone: err = %v, want the data source's 'multiple ... match' error", err)
	}

	a := database.OrderableLookup(database.DefaultEngineVersion, database.DefaultInstanceClass)
	var preferred []any
	for _, c := range a.PreferredInstanceClasses {
		preferred = append(preferred, c)
	}
	got, err := fake.Invoke(orderableToken, resource.NewPropertyMapFromMap(map[string]any{
		"engine":                   a.Engine,
		"engineVersion":            *a.EngineVersion,
		"instanceClass":            *a.InstanceClass,
		"storageType":              *a.StorageType,
		"preferredInstanceClasses": preferred,
	}))
	if err != nil {
		t.Fatalf("the layer's lookup: %v", err)
	}
	if st := got["storageType"].StringValue(); st != database.StorageType {
		t.Errorf("storage type %q, want the cluster's %q", st, database.StorageType)
	}
	// Either narrowing alone is enough for the data source; the layer sets
	// both so that the zones are those of the cluster's storage type.
	if a.StorageType == nil || *a.StorageType != "aurora" || len(a.PreferredInstanceClasses) != 1 || a.PreferredInstanceClasses[0] != database.DefaultInstanceClass {
		t.Errorf("lookup %+v: want storage type aurora and the class as the preferred one", a)
	}
}
