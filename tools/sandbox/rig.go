package sandbox

import (
	"context"
	"os"
	"time"

	"github.com/dbvault/dbvault/functions/rotator/faultproxy"
	"github.com/dbvault/dbvault/functions/rotator/smlocal"
)

// Rig is what the chaos runs and the benchmarks rotate on: the database, a
// fault proxy in front of it (to make the database fail, or to count its
// traffic), the Secrets Manager emulator and the rotator's bootstrap. The
// functions they start are theirs to stop.
type Rig struct {
	DB       *Database
	Proxy    *faultproxy.Proxy
	Emulator *Emulator
	// Bootstrap is the rotator (SetBootstrap).
	Bootstrap string
	// tmp holds the rotator SetBootstrap built; Close removes it.
	tmp string
}

// OpenRig opens the database dsn names (OpenDatabase: empty means the
// embedded server), a fault proxy in front of it and an emulator that
// sends the rotation steps to rotator.
func OpenRig(ctx context.Context, dsn string, rotator smlocal.Invoker) (_ *Rig, err error) {
	r := &Rig{}
	defer func() {
		if err != nil {
			_ = r.Close(context.WithoutCancel(ctx))
		}
	}()
	if r.DB, err = OpenDatabase(ctx, dsn); err != nil {
		return nil, err
	}
	if r.Proxy, err = faultproxy.New(r.DB.Addr()); err != nil {
		return nil, err
	}
	if r.Emulator, err = StartEmulator(smlocal.Options{Rotator: rotator}); err != nil {
		return nil, err
	}
	return r, nil
}

// SetBootstrap makes bootstrap the rotator, or when it is empty builds the
// rotator (BuildRotator, with fail points if failpoints) into a temporary
// directory that Close removes.
func (r *Rig) SetBootstrap(ctx context.Context, bootstrap string, failpoints bool) (err error) {
	if bootstrap != "" {
		r.Bootstrap = bootstrap
		return nil
	}
	if r.tmp, err = os.MkdirTemp("", "dbvault-rotator-"); err != nil {
		return err
	}
	r.Bootstrap, err = BuildRotator(ctx, r.tmp, failpoints)
	return err
}

// Close stops the emulator and the proxy, drops the users and databases
// made on the database (within 30 s) and closes it, and removes the
// rotator SetBootstrap built. It returns what the drop could not do.
func (r *Rig) Close(ctx context.Context) error {
	if r.Emulator != nil {
		_ = r.Emulator.Close()
	}
	if r.Proxy != nil {
		_ = r.Proxy.Close()
	}
	var err error
	if r.DB != nil {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = r.DB.Cleanup(cctx)
		cancel()
		_ = r.DB.Close()
	}
	if r.tmp != "" {
		_ = os.RemoveAll(r.tmp)
	}
	return err
}

// ProxyAt is the proxy's host and port, for the secrets that send the
// rotator through it.
func (r *Rig) ProxyAt() (string, int) {
	host, port, _ := splitHostPort(r.Proxy.Addr()) // the proxy's own listener address
	return host, port
}
