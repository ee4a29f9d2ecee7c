package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/osbuild/ibbot/internal/statuspage"
)

// chromium finds Debian's headless browser (.ci/run installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (apt-get install chromium)")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}

// browse loads url in headless Chromium and returns the DOM it rendered;
// with screenshot set, it also saves a picture of the page there.
func browse(t *testing.T, browser, url, screenshot string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(), "--window-size=1280,1800"}
	if screenshot != "" {
		if out, err := exec.CommandContext(ctx, browser, append(args, "--screenshot="+screenshot, url)...).CombinedOutput(); err != nil {
			t.Fatalf("chromium --screenshot: %v\n%s", err, out)
		}
	}
	out, err := exec.CommandContext(ctx, browser, append(args, "--dump-dom", url)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	return string(out)
}

// artifacts is where tests leave files for people to look at.
func artifacts(t *testing.T) string {
	dir := os.Getenv("IBBOT_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "ibbot-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestStatusPageInABrowser: headless Chromium loads the page from a
// running bot: every component box shows its short sha, the marks link to
// the right commits, the page passes basic accessibility checks, and a
// screenshot is saved. Then a deploy: the page and /status.json follow.
func TestStatusPageInABrowser(t *testing.T) {
	browser := chromium(t)
	s := newStack(t)
	port := freeTCPPort(t)
	cfg := s.config(s.hs.URL)
	cfg.Status.Listen = fmt.Sprintf("127.0.0.1:%d", port)
	cfg.ProdHash.CacheTTL = time.Second
	startBot(t, cfg)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)

	shot := filepath.Join(artifacts(t), "status-page.png")
	dom := browse(t, browser, url, shot)
	if info, err := os.Stat(shot); err != nil || info.Size() < 10_000 {
		t.Errorf("no screenshot at %s: %v", shot, err)
	}
	t.Logf("screenshot: %s", shot)
	for _, sha := range []string{composerSHA, workerSHA} {
		if !regexp.MustCompile(`href="https://github.com/[^"]+/commit/` + sha + `"[^>]*>\s*<title>[^<]*</title>\s*<text[^>]*>` + sha[:7]).MatchString(dom) {
			t.Errorf("the rendered diagram has no mark %s linking to its commit", sha[:7])
		}
	}
	checkAccessible(t, dom)

	s.github.SetDiagram(deployedDiagram(composerSHA, newComposerSHA), time.Now())
	deadline := time.Now().Add(wait)
	for !strings.Contains(browse(t, browser, url, ""), "/commit/"+newComposerSHA) {
		if time.Now().After(deadline) {
			t.Fatal("the page never showed the deploy")
		}
		time.Sleep(time.Second)
	}
	resp, err := http.Get(url + "status.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var snap statuspage.Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil {
		t.Fatal(err)
	}
	for _, c := range snap.Components {
		if c.ID == "composer" && c.SHA != newComposerSHA {
			t.Errorf("status.json says composer runs %s, want %s", c.SHA, newComposerSHA)
		}
	}
}

// checkAccessible: images have text alternatives, headings go in order,
// the page says its language, tables have headers.
func checkAccessible(t *testing.T, dom string) {
	t.Helper()
	if !strings.Contains(dom, `<html lang="en"`) {
		t.Error("the page does not say its language")
	}
	for _, img := range regexp.MustCompile(`<img[^>]*>`).FindAllString(dom, -1) {
		if !strings.Contains(img, "alt=") {
			t.Errorf("an image without a text alternative: %s", img)
		}
	}
	if !regexp.MustCompile(`role="img" aria-label="[^"]+"`).MatchString(dom) {
		t.Error("the diagram has no text alternative")
	}
	last := 0
	for _, h := range regexp.MustCompile(`<h([1-6])`).FindAllStringSubmatch(dom, -1) {
		level := int(h[1][0] - '0')
		if level > last+1 {
			t.Errorf("heading h%d follows h%d", level, last)
		}
		last = level
	}
	if strings.Count(dom, "<table") != strings.Count(dom, `<th scope="col">Component</th>`)+strings.Count(dom, `<th scope="col">When</th>`) {
		t.Error("a table without column headers")
	}
}
