package smlocal_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/smlocal"
	"github.com/dbvault/dbvault/functions/rotator/smlocal/smtest"
)

// step is one call in a stage-transition case.
type step func(ctx context.Context, c *secretsmanager.Client) error

func put(n int, value string, labels ...string) step {
	return func(ctx context.Context, c *secretsmanager.Client) error {
		in := &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String(value), ClientRequestToken: aws.String(tok(n))}
		if labels != nil {
			in.VersionStages = labels
		}
		_, err := c.PutSecretValue(ctx, in)
		return err
	}
}

// move is UpdateSecretVersionStage; 0 leaves a version id out.
func move(label string, to, from int) step {
	return func(ctx context.Context, c *secretsmanager.Client) error {
		in := &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String(label)}
		if to != 0 {
			in.MoveToVersionId = aws.String(tok(to))
		}
		if from != 0 {
			in.RemoveFromVersionId = aws.String(tok(from))
		}
		_, err := c.UpdateSecretVersionStage(ctx, in)
		return err
	}
}

// TestStageTransitions is the table of staging-label transitions; each case
// names the section of the Secrets Manager API Reference it follows. Every
// case starts from a secret "s" created with value "v1" as version 1
// (CreateSecret: the first version gets AWSCURRENT), runs its steps, and
// checks DescribeSecret's VersionIdsToStages (and, for a refused last
// step, its error code and that the map did not change).
func TestStageTransitions(t *testing.T) {
	cases := []struct {
		name, doc string
		steps     []step
		wantErr   string
		want      map[int][]string
	}{
		{"create", "CreateSecret, SecretString: the first version is AWSCURRENT",
			nil, "", map[int][]string{1: {"AWSCURRENT"}}},
		{"put moves current and previous", "PutSecretValue, VersionStages: without it AWSCURRENT moves to the new version; AWSPREVIOUS follows to the version AWSCURRENT left",
			[]step{put(2, "v2")}, "", map[int][]string{1: {"AWSPREVIOUS"}, 2: {"AWSCURRENT"}}},
		{"third put deprecates the oldest", "UpdateSecretVersionStage: a version whose last label is removed is deprecated (absent from VersionIdsToStages)",
			[]step{put(2, "v2"), put(3, "v3")}, "", map[int][]string{2: {"AWSPREVIOUS"}, 3: {"AWSCURRENT"}}},
		{"put as pending", "PutSecretValue, VersionStages: the labels given are attached; AWSCURRENT stays",
			[]step{put(2, "v2", "AWSPENDING")}, "", map[int][]string{1: {"AWSCURRENT"}, 2: {"AWSPENDING"}}},
		{"a label is on one version only", "UpdateSecretVersionStage: each staging label can be attached to only one version at a time",
			[]step{put(2, "v2", "AWSPENDING"), put(3, "v3", "AWSPENDING")}, "", map[int][]string{1: {"AWSCURRENT"}, 3: {"AWSPENDING"}}},
		{"custom labels move too", "PutSecretValue, VersionStages: a label held by another version is moved",
			[]step{put(2, "v2", "blue"), put(3, "v3", "blue", "AWSCURRENT")}, "", map[int][]string{1: {"AWSPREVIOUS"}, 3: {"AWSCURRENT", "blue"}}},
		{"finish rotation", "UpdateSecretVersionStage, MoveToVersionId + RemoveFromVersionId: AWSCURRENT moves, AWSPREVIOUS follows; AWSPENDING stays with the new current",
			[]step{put(2, "v2", "AWSPENDING"), move("AWSCURRENT", 2, 1)}, "", map[int][]string{1: {"AWSPREVIOUS"}, 2: {"AWSCURRENT", "AWSPENDING"}}},
		{"previous leaves the older version", "UpdateSecretVersionStage, Note: AWSPREVIOUS moves to the version AWSCURRENT was removed from",
			[]step{put(2, "v2"), put(3, "v3", "AWSPENDING"), move("AWSCURRENT", 3, 2)}, "", map[int][]string{2: {"AWSPREVIOUS"}, 3: {"AWSCURRENT", "AWSPENDING"}}},
		{"roll back to previous", "UpdateSecretVersionStage: moving AWSCURRENT onto the AWSPREVIOUS version swaps the two",
			[]step{put(2, "v2"), move("AWSCURRENT", 1, 2)}, "", map[int][]string{1: {"AWSCURRENT"}, 2: {"AWSPREVIOUS"}}},
		{"move without RemoveFromVersionId", "UpdateSecretVersionStage, MoveToVersionId: a label attached to another version needs RemoveFromVersionId",
			[]step{put(2, "v2", "AWSPENDING"), move("AWSCURRENT", 2, 0)}, "InvalidParameterException", map[int][]string{1: {"AWSCURRENT"}, 2: {"AWSPENDING"}}},
		{"RemoveFromVersionId that does not hold the label", "UpdateSecretVersionStage, RemoveFromVersionId: if the version ID does not match, the operation fails",
			[]step{put(2, "v2", "AWSPENDING"), move("AWSCURRENT", 2, 2)}, "InvalidParameterException", map[int][]string{1: {"AWSCURRENT"}, 2: {"AWSPENDING"}}},
		{"move to a version that already has it", "UpdateSecretVersionStage: attaching a label a version already has changes nothing",
			[]step{put(2, "v2"), move("AWSCURRENT", 2, 0)}, "", map[int][]string{1: {"AWSPREVIOUS"}, 2: {"AWSCURRENT"}}},
		{"remove a label", "UpdateSecretVersionStage, RemoveFromVersionId alone removes the label; the version is then deprecated",
			[]step{put(2, "v2", "AWSPENDING"), move("AWSPENDING", 0, 2)}, "", map[int][]string{1: {"AWSCURRENT"}}},
		{"AWSCURRENT cannot be removed", "UpdateSecretVersionStage: AWSCURRENT can only move to another version",
			[]step{move("AWSCURRENT", 0, 1)}, "InvalidParameterException", map[int][]string{1: {"AWSCURRENT"}}},
		{"move to an unknown version", "UpdateSecretVersionStage, Errors: ResourceNotFoundException",
			[]step{move("blue", 7, 0)}, "ResourceNotFoundException", map[int][]string{1: {"AWSCURRENT"}}},
		{"token replay with the same value", "PutSecretValue, ClientRequestToken: same token and value: the request is ignored",
			[]step{put(2, "v2"), put(2, "v2", "AWSPENDING")}, "", map[int][]string{1: {"AWSPREVIOUS"}, 2: {"AWSCURRENT"}}},
		{"token replay with another value", "PutSecretValue, ClientRequestToken: same token, other value: you can't modify an existing version",
			[]step{put(2, "v2"), put(2, "other")}, "ResourceExistsException", map[int][]string{1: {"AWSPREVIOUS"}, 2: {"AWSCURRENT"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := smtest.Start(t, smlocal.Options{})
			c, ctx := e.Client, t.Context()
			if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v1"), ClientRequestToken: aws.String(tok(1))}); err != nil {
				t.Fatal(err)
			}
			var before map[string][]string
			for i, st := range tc.steps {
				if i == len(tc.steps)-1 {
					before = smtest.Stages(t, c, "s")
				}
				err := st(ctx, c)
				if i < len(tc.steps)-1 && err != nil {
					t.Fatalf("step %d: %v", i+1, err)
				}
				if i == len(tc.steps)-1 && errCode(t, err) != tc.wantErr {
					t.Fatalf("%s\nlast step: error %v, want %q", tc.doc, err, tc.wantErr)
				}
			}
			want := map[string][]string{}
			for n, l := range tc.want {
				want[tok(n)] = l
			}
			got := smtest.Stages(t, c, "s")
			if !smtest.EqualStages(got, want) {
				t.Fatalf("%s\nVersionIdsToStages = %v, want %v", tc.doc, got, want)
			}
			if tc.wantErr != "" && !smtest.EqualStages(got, before) {
				t.Fatalf("refused step changed the labels: %v -> %v", before, got)
			}
		})
	}
}
