package main

import (
	"context"
	"testing"

	"github.com/dbvault/dbvault/ops/deploy"
)

// The commands that deploy or preview get the account's CloudTrail (the
// trail lookup before the secrets layer); destroy and outputs do not.
func TestDeployCommandsLookUpTheAccountsTrails(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	for cmd, want := range map[string]bool{
		"deploy-all": true, "up": true, "preview": true, "preview-all": true,
		"destroy-all": false, "destroy": false, "outputs": false,
	} {
		orch := &deploy.Orchestrator{Env: deploy.Environment{Name: "dev", Region: "eu-west-1"}}
		if err := lookUpTrails(context.Background(), orch, cmd); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		if got := orch.Trails != nil; got != want {
			t.Errorf("%s: trails looked up = %v, want %v", cmd, got, want)
		}
	}
}
