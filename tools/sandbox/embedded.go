//go:build !sandbox_noembedded

package sandbox

import (
	"context"

	"github.com/dbvault/dbvault/tools/mysqllocal"
)

// The embedded server: every build but the sandbox command's own from
// `go run mage.go sandbox` (database.go, HasEmbedded).
func init() {
	startEmbedded = func(ctx context.Context) (EmbeddedServer, error) {
		srv, err := mysqllocal.Start(ctx, mysqllocal.Options{})
		if err != nil {
			return nil, err
		}
		return srv, nil
	}
}
