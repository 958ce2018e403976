package prove

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type workflow struct {
	On          map[string]map[string]map[string]map[string]any `yaml:"on"`
	Permissions map[string]string                               `yaml:"permissions"`
	Jobs        map[string]struct {
		Timeout int               `yaml:"timeout-minutes"`
		Env     map[string]string `yaml:"env"`
		Steps   []struct {
			ID   string            `yaml:"id"`
			If   string            `yaml:"if"`
			Uses string            `yaml:"uses"`
			Run  string            `yaml:"run"`
			With map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func readWorkflow(t *testing.T, name string) (workflow, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", ".github", "workflows", name))
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return wf, string(b)
}

// prove.yml: manual only, OIDC with the role given (no stored keys), the
// least permissions, actions pinned as layer.yml pins them, the proof
// command, and the cleanup after a cancel.
func TestProveWorkflow(t *testing.T) {
	wf, text := readWorkflow(t, "prove.yml")
	if len(wf.On) != 1 || wf.On["workflow_dispatch"] == nil {
		t.Errorf("prove.yml runs on %v, want workflow_dispatch only", wf.On)
	}
	inputs := wf.On["workflow_dispatch"]["inputs"]
	if inputs["role_arn"]["required"] != true || inputs["region"]["default"] != "us-east-1" || inputs["environment"] == nil {
		t.Errorf("inputs %v: want role_arn required, region defaulting to us-east-1, environment", inputs)
	}
	if len(wf.Permissions) != 2 || wf.Permissions["id-token"] != "write" || wf.Permissions["contents"] != "read" {
		t.Errorf("permissions %v, want id-token: write and contents: read only", wf.Permissions)
	}
	if strings.Contains(text, "aws-access-key-id") || strings.Contains(text, "AWS_SECRET_ACCESS_KEY") {
		t.Error("prove.yml uses stored AWS keys; it must assume the role through OIDC")
	}
	_, layer := readWorkflow(t, "layer.yml")
	pinned := regexp.MustCompile(`^([\w.-]+/[\w.-]+)@[0-9a-f]{40}$`)
	job, ok := wf.Jobs["prove"]
	if !ok {
		t.Fatal("prove.yml has no job prove")
	}
	var runs []string
	var cleanupIf string
	for _, s := range job.Steps {
		if s.Uses != "" {
			if !pinned.MatchString(s.Uses) {
				t.Errorf("%s is not pinned by a full commit SHA", s.Uses)
			} else if name := pinned.FindStringSubmatch(s.Uses)[1]; strings.Contains(layer, name+"@") && !strings.Contains(layer, s.Uses) {
				t.Errorf("%s: layer.yml pins %s to another commit", s.Uses, name)
			}
		}
		if strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials@") {
			if s.With["role-to-assume"] != "${{ inputs.role_arn }}" {
				t.Errorf("role-to-assume is %q, want the input role_arn", s.With["role-to-assume"])
			}
			// The session must outlast the job, or the last destroy runs
			// without credentials.
			if d, _ := strconv.Atoi(s.With["role-duration-seconds"]); d <= job.Timeout*60 {
				t.Errorf("role-duration-seconds %q does not outlast the job's %d minutes", s.With["role-duration-seconds"], job.Timeout)
			}
		}
		if s.Run != "" {
			runs = append(runs, strings.TrimSpace(s.Run))
		}
		if strings.TrimSpace(s.Run) == "go run ./ops/cmd/prove -cleanup-only" {
			cleanupIf = s.If
		}
	}
	if !strings.Contains(strings.Join(runs, "\n"), "go run ./ops/cmd/prove\n") {
		t.Errorf("no step runs the proof (go run ./ops/cmd/prove): %q", runs)
	}
	if !strings.HasPrefix(cleanupIf, "cancelled()") {
		t.Errorf("the cleanup step runs if %q, want on cancelled()", cleanupIf)
	}
	for k, want := range map[string]string{"ENV": "${{ inputs.environment }}", "AWS_REGION": "${{ inputs.region }}",
		"PULUMI_BACKEND_URL": "${{ vars.PULUMI_BACKEND_URL }}", "PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"} {
		if job.Env[k] != want {
			t.Errorf("job env %s = %q, want %q", k, job.Env[k], want)
		}
	}
}
