package deploy

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/dbvault/dbvault/ops/deploy/preflight"
)

// TestWorkflowsPassActionlint runs actionlint (pinned by the root module's
// tool directive) over .github/workflows and fails on any finding.
func TestWorkflowsPassActionlint(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".github", "workflows", "deploy.yml")); err != nil {
		t.Fatalf("workflows missing: %v", err)
	}
	cmd := exec.Command("go", "tool", "actionlint", "-no-color")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("actionlint: %v\n%s", err, out)
	}
}

// TestWorkflowJobOrder checks the job chains: deploy in layer order,
// destroy in reverse, each job waiting for the one before.
func TestWorkflowJobOrder(t *testing.T) {
	for file, want := range map[string][][2]string{
		"deploy.yml":  {{"kms", "network"}, {"database", "kms"}, {"secrets", "database"}},
		"destroy.yml": {{"secrets", "confirm"}, {"database", "secrets"}, {"kms", "database"}, {"network", "kms"}},
	} {
		b, err := os.ReadFile(filepath.Join("..", "..", ".github", "workflows", file))
		if err != nil {
			t.Fatal(err)
		}
		var wf struct {
			Jobs map[string]struct {
				Needs string `yaml:"needs"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(b, &wf); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, pair := range want {
			if got := wf.Jobs[pair[0]].Needs; got != pair[1] {
				t.Errorf("%s: job %s needs %q, want %q", file, pair[0], got, pair[1])
			}
		}
	}
}

// No pull request runs the deploy (its role is a vault administrator); a
// layer job runs only from the default branch; an up previews first; the plans
// reach the job summary through the vault command (GITHUB_STEP_SUMMARY).
func TestDeployWorkflowPreviewsFirst(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", ".github", "workflows", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	deploy, layer := read("deploy.yml"), read("layer.yml")
	var wf struct {
		On map[string]any `yaml:"on"`
	}
	if err := yaml.Unmarshal([]byte(deploy), &wf); err != nil {
		t.Fatal(err)
	}
	if len(wf.On) != 1 || wf.On["workflow_dispatch"] == nil {
		t.Errorf("deploy.yml runs on %v, want workflow_dispatch only", wf.On)
	}
	if n := strings.Count(deploy, "operation: ${{ inputs.operation || 'up' }}"); n != 4 {
		t.Errorf("%d of 4 layer jobs take the operation input", n)
	}
	if !strings.Contains(layer, `if [ "$GITHUB_REF" != "refs/heads/$DEFAULT_BRANCH" ]`) {
		t.Error("layer.yml does not refuse a run from another branch than the default")
	}
	for _, name := range []string{"deploy.yml", "destroy.yml"} {
		if strings.Contains(read(name), "secrets: inherit") {
			t.Errorf("%s passes every secret to the layer jobs", name)
		}
	}
	pre, up := strings.Index(layer, `go run mage.go "preview:$LAYER"`), strings.Index(layer, `go run mage.go "$OPERATION:$LAYER"`)
	if pre < 0 || up < 0 || pre > up || !strings.Contains(layer, "ALLOW_REPLACE: ${{ inputs.allow_replace }}") {
		t.Error("layer.yml does not preview before the up, or does not pass ALLOW_REPLACE")
	}
}

// A release is built from a tag on the default branch, attests its files'
// provenance, and builds without Go's cache; every action a workflow uses
// is pinned by a full commit.
func TestReleaseWorkflowGuards(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", ".github", "workflows", "release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	release := string(b)
	for _, want := range []string{
		`git merge-base --is-ancestor "$GITHUB_SHA" "origin/$DEFAULT_BRANCH"`,
		"fetch-depth: 0",
		"uses: actions/attest-build-provenance@",
		`subject-path: "dist/release/rotator-*"`,
		"attestations: write",
		"cache: false",
	} {
		if !strings.Contains(release, want) {
			t.Errorf("release.yml lacks %q", want)
		}
	}
	// Only the job that runs none of the repository's code may sign and
	// release: build reads and builds; publish, after it, only downloads
	// the files, checks their sums, attests and publishes. Every job says
	// its permissions (a job that says none gets the repository's default
	// token, which may write).
	var wf struct {
		Jobs map[string]struct {
			Needs       any               `yaml:"needs"`
			Permissions map[string]string `yaml:"permissions"`
			Steps       []struct {
				Uses string `yaml:"uses"`
				Run  string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(wf.Jobs)); !slices.Equal(got, []string{"build", "publish"}) {
		t.Fatalf("release.yml jobs %v, want build and publish", got)
	}
	if p := wf.Jobs["build"].Permissions; !maps.Equal(p, map[string]string{"contents": "read"}) {
		t.Errorf("release.yml build job has permissions %v, want contents: read only", p)
	}
	publish := wf.Jobs["publish"]
	if publish.Needs != "build" || publish.Permissions == nil {
		t.Errorf("release.yml publish job needs %v, permissions %v: want needs build, and its permissions said", publish.Needs, publish.Permissions)
	}
	for _, st := range publish.Steps {
		uses := strings.HasPrefix(st.Uses, "actions/download-artifact@") || strings.HasPrefix(st.Uses, "actions/attest-build-provenance@")
		run := strings.HasPrefix(st.Run, "sha256sum -c ") || strings.HasPrefix(st.Run, "gh release create ")
		if !uses && !run {
			t.Errorf("release.yml publish job, which may sign and release, runs %q%q: only the download, the sums' check, the attestation and gh release create belong there", st.Uses, st.Run)
		}
	}
	uses := regexp.MustCompile(`uses: ([^@\s]+)@(\S+)`)
	entries, err := os.ReadDir(filepath.Join("..", "..", ".github", "workflows"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("..", "..", ".github", "workflows", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range uses.FindAllStringSubmatch(string(b), -1) {
			if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(m[2]) {
				t.Errorf("%s: %s@%s is not pinned by a full commit", e.Name(), m[1], m[2])
			}
		}
	}
}

// A job that assumes an AWS role asks for a session that outlasts the job
// (OIDC sessions last one hour unless asked), and builds what it deploys
// without Go's build cache, which another branch's run could have written;
// the CI cache of the Pulumi CLI is keyed on the modules it is built from.
func TestCredentialedJobs(t *testing.T) {
	type step struct {
		Uses string            `yaml:"uses"`
		With map[string]string `yaml:"with"`
	}
	entries, err := os.ReadDir(filepath.Join("..", "..", ".github", "workflows"))
	if err != nil {
		t.Fatal(err)
	}
	credentialed := 0
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("..", "..", ".github", "workflows", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var wf struct {
			Jobs map[string]struct {
				Timeout int    `yaml:"timeout-minutes"`
				Steps   []step `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(b, &wf); err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		for name, job := range wf.Jobs {
			var creds, gos []step
			for _, s := range job.Steps {
				switch {
				case strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials@"):
					creds = append(creds, s)
				case strings.HasPrefix(s.Uses, "actions/setup-go@"):
					gos = append(gos, s)
				}
			}
			if len(creds) == 0 {
				continue
			}
			credentialed++
			for _, s := range creds {
				var secs int
				if _, err := fmt.Sscan(s.With["role-duration-seconds"], &secs); err != nil || job.Timeout == 0 || secs < job.Timeout*60 {
					t.Errorf("%s job %s: role-duration-seconds %q does not outlast timeout-minutes %d", e.Name(), name, s.With["role-duration-seconds"], job.Timeout)
				}
			}
			for _, s := range gos {
				if s.With["cache"] != "false" {
					t.Errorf("%s job %s: setup-go keeps Go's build cache (cache: %q)", e.Name(), name, s.With["cache"])
				}
			}
		}
	}
	if credentialed < 2 {
		t.Fatalf("%d jobs assume an AWS role, want the layer's and the proof's at least", credentialed)
	}
	ci, err := os.ReadFile(filepath.Join("..", "..", ".github", "workflows", "ci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ci), "hashFiles('tools/pulumicli/go.sum', 'tools/go.sum')") {
		t.Error("ci.yml's cache of the Pulumi CLI is not keyed on the modules it is built from")
	}
}

// Dependabot proposes updates for the actions and for every Go module of
// the repository, and leaves out the modules' requirements of each other.
func TestDependabotCoversEveryModule(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", ".github", "dependabot.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Updates []struct {
			Ecosystem   string   `yaml:"package-ecosystem"`
			Directory   string   `yaml:"directory"`
			Directories []string `yaml:"directories"`
			Ignore      []struct {
				Name string `yaml:"dependency-name"`
			} `yaml:"ignore"`
		} `yaml:"updates"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", filepath.Join("..", ".."), "ls-files", "go.mod", "*/go.mod").Output()
	if err != nil {
		t.Fatal(err)
	}
	var modules []string
	for _, f := range strings.Fields(string(out)) {
		modules = append(modules, "/"+strings.TrimSuffix(strings.TrimSuffix(f, "go.mod"), "/"))
	}
	ecosystems := map[string]bool{}
	for _, u := range cfg.Updates {
		ecosystems[u.Ecosystem] = true
		if u.Ecosystem != "gomod" {
			continue
		}
		slices.Sort(modules)
		got := slices.Sorted(slices.Values(u.Directories))
		if !slices.Equal(got, modules) {
			t.Errorf("dependabot's gomod directories %v, want every module %v", got, modules)
		}
		if len(u.Ignore) != 1 || u.Ignore[0].Name != "github.com/dbvault/dbvault*" {
			t.Errorf("dependabot does not leave out the repository's own modules: %+v", u.Ignore)
		}
	}
	if !ecosystems["gomod"] || !ecosystems["github-actions"] {
		t.Errorf("dependabot updates %v, want gomod and github-actions", ecosystems)
	}
}

// One Pulumi everywhere: the CLI the workflows install and the preflight
// accepts (tools.PulumiVersion, through preflight.PinnedPulumi), the engine
// the rehearsal builds (tools/pulumicli) and the SDK every module builds its
// programs with. An update of one alone (a Dependabot pull request) fails
// here instead of deploying with an engine other than the one tested.
func TestOnePulumiVersionEverywhere(t *testing.T) {
	root := filepath.Join("..", "..")
	want := "v" + preflight.PinnedPulumi
	modules := []string{"ops", "examples/twovaults", "tools/pulumicli"}
	layerDirs, err := filepath.Glob(filepath.Join(root, "stacks", "*", "go.mod"))
	if err != nil || len(layerDirs) < 5 {
		t.Fatalf("stacks' modules: %v, %v", layerDirs, err)
	}
	for _, m := range layerDirs {
		rel, _ := filepath.Rel(root, filepath.Dir(m))
		modules = append(modules, rel)
	}
	requirement := regexp.MustCompile(`(?m)^\s*github\.com/pulumi/pulumi/(?:sdk|pkg)/v3 (v\S+)`)
	for _, m := range modules {
		b, err := os.ReadFile(filepath.Join(root, m, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		found := requirement.FindAllStringSubmatch(string(b), -1)
		if len(found) == 0 {
			t.Errorf("%s/go.mod requires no Pulumi SDK", m)
		}
		for _, f := range found {
			if f[1] != want {
				t.Errorf("%s/go.mod requires Pulumi %s, but the pinned CLI is %s", m, f[1], want)
			}
		}
	}
	pin := regexp.MustCompile(`pulumi-version:\s*(\S+)`)
	seen := 0
	for _, name := range []string{"layer.yml", "prove.yml"} {
		b, err := os.ReadFile(filepath.Join(root, ".github", "workflows", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range pin.FindAllStringSubmatch(string(b), -1) {
			seen++
			if "v"+strings.TrimPrefix(f[1], "v") != want {
				t.Errorf("%s installs Pulumi %s, but the pin is %s", name, f[1], want)
			}
		}
	}
	if seen < 2 {
		t.Errorf("%d pulumi-version pins found in layer.yml and prove.yml, want 2", seen)
	}
}
