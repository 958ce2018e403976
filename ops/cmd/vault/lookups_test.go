package main

import (
	"context"
	"testing"

	"github.com/dbvault/dbvault/ops/deploy"
)

// The commands that deploy or preview get the account's CloudTrail (the
// trail lookup before the secrets layer), those that destroy get EC2 (the
// wait for the rotator's network interfaces), outputs neither.
func TestCommandsGetTheirAWSLookups(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	for cmd, want := range map[string][2]bool{ // trails, interfaces
		"deploy-all": {true, false}, "up": {true, false}, "preview": {true, false}, "preview-all": {true, false},
		"destroy-all": {false, true}, "destroy": {false, true}, "outputs": {false, false},
	} {
		orch := &deploy.Orchestrator{Env: deploy.Environment{Name: "dev", Region: "eu-west-1"}}
		if err := awsLookups(context.Background(), orch, cmd); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		if got := [2]bool{orch.Trails != nil, orch.ENIs != nil}; got != want {
			t.Errorf("%s: (trails, interfaces) looked up = %v, want %v", cmd, got, want)
		}
	}
}
