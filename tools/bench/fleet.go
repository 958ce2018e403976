package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/tools/sandbox"
)

// DefaultFleet is how many declared users the fleet measurement issues and
// rotates: the most one vault declares (stacks/secrets.MaxAppUsers).
const DefaultFleet = 100

// FleetResult is a vault's worth of declared users served by one function,
// as the secrets layer deploys it: their declarations in a file
// (APP_USERS_FILE, the declarations layer's /opt/dbvault/app-users.json),
// DECLARED_ONLY on, every secret naming the one master secret.
type FleetResult struct {
	Users int
	// DeclarationBytes is the size of the declarations file.
	DeclarationBytes int
	// Provision is the first rotation of each secret, which creates its
	// user; Rotate the second, which creates the clone and moves
	// AWSCURRENT to it.
	Provision, Rotate Latency
	// ProvisionTotal and RotateTotal are the wall times of all of them, one
	// after the other, as Secrets Manager's schedule would start them.
	ProvisionTotal, RotateTotal time.Duration
}

// fleet issues and rotates n declared users through one function that reads
// their declarations from a file, then checks that every user logs in with
// its AWSCURRENT password and that the function refuses a secret it does
// not declare.
func (b *bench) fleet(ctx context.Context, n int, say func(string, ...any)) (*FleetResult, error) {
	d, err := sandbox.SetUpDeclared(ctx, b.DB, b.Emulator.Client, "fleet/", "flt_", b.DB.Host, b.DB.Port, n)
	if err != nil {
		return nil, err
	}
	declEnv, err := d.Env()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "dbvault-fleet-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	path := filepath.Join(dir, "app-users.json")
	if err := os.WriteFile(path, []byte(declEnv["APP_USERS"]), 0o600); err != nil {
		return nil, err
	}
	env := sandbox.FunctionEnv(b.Emulator.URL, declEnv)
	delete(env, "APP_USERS")
	env["APP_USERS_FILE"] = path
	env["DECLARED_ONLY"] = "true"
	restore, err := b.useFunction(ctx, env)
	if err != nil {
		return nil, err
	}
	defer restore()
	res := &FleetResult{Users: n, DeclarationBytes: len(declEnv["APP_USERS"])}
	for _, u := range d.Users {
		if err := b.turnOn(ctx, u.SecretARN); err != nil {
			return nil, err
		}
	}
	for pass, into := range []*Latency{&res.Provision, &res.Rotate} {
		say("fleet: %s %d declared users ...", map[int]string{0: "provisioning", 1: "rotating"}[pass], n)
		var times []time.Duration
		start := time.Now()
		for _, u := range d.Users {
			took, _, err := b.rotate(ctx, u.SecretARN)
			if err != nil {
				return nil, fmt.Errorf("fleet: rotation %d of %s: %w", pass+1, u.SecretName, err)
			}
			times = append(times, took)
		}
		total := time.Since(start)
		*into = latency(times)
		if pass == 0 {
			res.ProvisionTotal = total
		} else {
			res.RotateTotal = total
		}
	}
	for _, u := range d.Users {
		cur, err := b.Emulator.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(u.SecretARN)})
		if err != nil {
			return nil, fmt.Errorf("fleet: %s: %w", u.SecretName, err)
		}
		var v sandbox.Secret
		if err := json.Unmarshal([]byte(aws.ToString(cur.SecretString)), &v); err != nil {
			return nil, fmt.Errorf("fleet: %s: %w", u.SecretName, err)
		}
		if err := sandbox.CheckLogin(ctx, b.DB.Host, b.DB.Port, v.Username, v.Password, u.DBName); err != nil {
			return nil, fmt.Errorf("fleet: %s: AWSCURRENT does not log in: %w", u.SecretName, err)
		}
	}
	// A secret the function does not declare, naming the same master,
	// must be refused.
	other, err := sandbox.CreateSecret(ctx, b.Emulator.Client, "fleet/undeclared-"+sandbox.UniqueName("u"), sandbox.Secret{Engine: "mysql", Host: b.DB.Host, Port: b.DB.Port, Username: d.Users[0].User, Password: "not-used-1", MasterARN: d.MasterARN})
	if err != nil {
		return nil, err
	}
	if err := b.turnOn(ctx, other); err != nil {
		return nil, err
	}
	if _, _, err := b.rotate(ctx, other); err == nil {
		return nil, fmt.Errorf("fleet: the function rotated a secret it does not declare")
	}
	return res, nil
}

// markdown writes the fleet's section of the report.
func (f *FleetResult) markdown(w func(string, ...any)) {
	w("## A vault of %d declared users", f.Users)
	w("")
	w("One function serves them all, as the secrets layer deploys it: the declarations in a file (`APP_USERS_FILE`, %d bytes here, more than Lambda's 4 KB environment would hold; deployed, the declarations layer's `/opt/dbvault/app-users.json`), `DECLARED_ONLY` on, every secret naming the one master secret. Each secret is rotated twice, one after the other: the first rotation creates its user, the second its clone. Afterwards every user logs in with its AWSCURRENT password, and a secret the function does not declare is refused.", f.DeclarationBytes)
	w("")
	w("| rotation | p50 | p95 | max | all %d, one after the other |", f.Users)
	w("| --- | --- | --- | --- | --- |")
	w("| first (creates the user) | %s | %s | %s | %.1f s |", ms(f.Provision.P50), ms(f.Provision.P95), ms(f.Provision.Max), f.ProvisionTotal.Seconds())
	w("| second (creates the clone, alternates) | %s | %s | %s | %.1f s |", ms(f.Rotate.P50), ms(f.Rotate.P95), ms(f.Rotate.Max), f.RotateTotal.Seconds())
}
