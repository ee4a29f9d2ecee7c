package main

import (
	"bufio"
	"os"
	"os/exec"
	"path"
	"regexp"
	"strings"
	"testing"
)

// operatorFiles are what an operator makes in the checkout while following
// the README: the config, secrets, the SQLite database and its journals.
var operatorFiles = []string{"ibbot.yaml", "ibbot-password", "ibbot-access-token", "ibbot.db", "ibbot.db-wal",
	"ibbot.db-shm", "data/ibbot.db", ".env", "secrets/github-token"}

// TestOperatorFilesStayPrivate: none of them is tracked by git or sent to
// an image build (whose `COPY . .` would put the access token in a layer).
func TestOperatorFilesStayPrivate(t *testing.T) {
	patterns := dockerignore(t)
	for _, f := range operatorFiles {
		if !dockerIgnored(patterns, f) {
			t.Errorf(".dockerignore lets %s into the build context", f)
		}
		cmd := exec.Command("git", "check-ignore", "-q", "--no-index", f)
		cmd.Dir = "../.."
		if err := cmd.Run(); err != nil {
			t.Errorf(".gitignore does not ignore %s (git check-ignore: %v)", f, err)
		}
	}
	for _, f := range []string{"go.mod", "cmd/ibbot/main.go", "config/example.yaml", "templates/openshift/ibbot.yml", "tools/build.sh"} {
		if dockerIgnored(patterns, f) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", f)
		}
	}
}

// TestImageRunsAsItsNumericUser: the image's USER is numeric (Kubernetes
// checks runAsNonRoot against a number, not a name) and /data, where the
// database goes, belongs to that user whatever builder made the image.
func TestImageRunsAsItsNumericUser(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	dockerfile := string(b)
	user := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindStringSubmatch(dockerfile)
	if user == nil || !regexp.MustCompile(`^[1-9][0-9]*(:[0-9]+)?$`).MatchString(user[1]) {
		t.Fatalf("USER %v is not a numeric, non-root uid", user)
	}
	chown := regexp.MustCompile(`(?m)^COPY --from=\S+ --chown=(\S+) \S+ /data$`).FindStringSubmatch(dockerfile)
	if chown == nil || chown[1] != user[1] {
		t.Errorf("/data is not copied in owned by the runtime user %s (got %v)", user[1], chown)
	}
	at := func(instr string) int { return regexp.MustCompile(`(?m)^` + instr).FindStringIndex(dockerfile)[0] }
	if at("COPY --from=\\S+ --chown") > at("VOLUME") {
		t.Error("VOLUME /data comes before /data is made: its owner would be root")
	}
}

func dockerignore(t *testing.T) []string {
	f, err := os.Open("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var patterns []string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, strings.TrimPrefix(line, "/"))
		}
	}
	return patterns
}

// dockerIgnored matches name as Docker does for these patterns: from the
// context's root, ** for any number of directories, and a matched
// directory taking everything under it.
func dockerIgnored(patterns []string, name string) bool {
	for _, p := range patterns {
		for dir := name; dir != "." && dir != "/"; dir = path.Dir(dir) {
			if ok, _ := path.Match(p, dir); ok {
				return true
			}
			if rest, found := strings.CutPrefix(p, "**/"); found {
				if ok, _ := path.Match(rest, path.Base(dir)); ok {
					return true
				}
			}
		}
	}
	return false
}
