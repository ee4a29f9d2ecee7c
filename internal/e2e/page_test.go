package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/statuspage"
	"github.com/osbuild/ibbot/internal/testenv"
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
// the right commits, the open incident and the maintenance of the status
// page followed show, axe-core finds nothing at phone and desk widths,
// light and dark, nothing scrolls sideways, and screenshots are saved.
// Then a deploy: the page and /status.json follow.
func TestStatusPageInABrowser(t *testing.T) {
	browser := chromium(t)
	s := newStack(t)
	port := freeTCPPort(t)
	cfg := s.config(s.hs.URL)
	cfg.Status.Listen = fmt.Sprintf("127.0.0.1:%d", port)
	cfg.ProdHash.CacheTTL = time.Second
	incidents := testenv.NewStatuspage(nil, "Image Builder")
	defer incidents.Close()
	incidents.Open("Image builds fail", "major", "Builds of every image type fail.", "Image Builder")
	incidents.Schedule("Database upgrade", "Builds queue for a while.", time.Now().Add(24*time.Hour), time.Now().Add(26*time.Hour), "Image Builder")
	cfg.Incidents = config.Incidents{Statuspage: incidents.URL, Rooms: []string{s.room.String()}, PollInterval: time.Minute}
	startBot(t, cfg)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	for deadline := time.Now().Add(wait); !strings.Contains(browse(t, browser, url, ""), "Image builds fail"); time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			t.Fatal("the page never showed the open incident")
		}
	}

	shot := filepath.Join(artifacts(t), "status-page.png")
	dom := browse(t, browser, url, shot)
	if info, err := os.Stat(shot); err != nil || info.Size() < 10_000 {
		t.Errorf("no screenshot at %s: %v", shot, err)
	}
	t.Logf("screenshot: %s", shot)
	for _, sha := range []string{composerSHA, workerSHA} {
		if !regexp.MustCompile(`<a[^>]*href="https://github.com/[^"]+/commit/` + sha + `"[^>]*>\s*<title>[^<]*</title>\s*(<rect[^>]*>(</rect>)?\s*)?<text[^>]*>` + sha[:7]).MatchString(dom) {
			t.Errorf("the rendered diagram has no mark %s linking to its commit", sha[:7])
		}
	}
	for _, part := range []string{"sending", "encryption", "GitHub relay", "deploy announcements", "command descriptions (MSC4391)"} {
		if !strings.Contains(dom, "<li>"+part+": ") {
			t.Errorf("the page does not list the part %q", part)
		}
	}
	checkAxe(t, browser, url)

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

// axeCore is axe-core's script: fetched once from the npm registry (like
// Dendrite's build from the module proxy, a tool, not test traffic; .ci/run
// fetches it before the tests), then kept in the user cache.
func axeCore(t *testing.T) string {
	t.Helper()
	path, err := testenv.FetchAxeCore(context.Background())
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core: %v (go run ./internal/testenv/cmd/fetch-axe)", err)
		}
		t.Skipf("axe-core cannot be fetched: %v", err)
	}
	return path
}

// axeResult is what the runner script reports from inside the page.
type axeResult struct {
	ScrollWidth, ClientWidth int
	Dark                     bool
	Violations               []struct {
		ID, Impact, Help string
		Nodes            []string
	}
}

// checkAxe runs axe-core's rules in the page at a phone's width (390 px)
// and a desk's (1280 px), light and dark: no violation, and nothing wider
// than the screen. A phone-width screenshot goes to the artifacts.
func checkAxe(t *testing.T, browser, url string) {
	t.Helper()
	axe := axeCore(t)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	dir := t.TempDir()
	writeAxePage(t, dir, axe, page)
	for _, width := range []int{390, 1280} {
		for _, dark := range []bool{false, true} {
			name := fmt.Sprintf("%dpx, %s", width, map[bool]string{false: "light", true: "dark"}[dark])
			r := runAxe(t, browser, dir, width, dark)
			if r.Dark != dark {
				t.Errorf("%s: the page saw prefers-color-scheme dark=%v", name, r.Dark)
			}
			if r.ClientWidth != width || r.ScrollWidth > r.ClientWidth {
				t.Errorf("%s: the page is %d px wide in a %d px viewport: it scrolls sideways", name, r.ScrollWidth, r.ClientWidth)
			}
			for _, v := range r.Violations {
				t.Errorf("%s: axe-core %s (%s): %s, at %v", name, v.ID, v.Impact, v.Help, v.Nodes)
			}
		}
	}
	shot := filepath.Join(artifacts(t), "status-page-390px.png")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append(chromiumArgs(t, 500, 2400, false), "--screenshot="+shot, "file://"+filepath.Join(dir, "frame-390.html"))
	if out, err := exec.CommandContext(ctx, browser, args...).CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	t.Logf("phone-width screenshot: %s", shot)
}

// writeAxePage copies the served page next to axe-core with a runner
// appended (the served page's policy allows no script, rightly), and a
// frame per width: headless Chromium's window is never narrower than 500
// px, so a phone's viewport is an iframe of its width.
func writeAxePage(t *testing.T, dir, axe string, page []byte) {
	t.Helper()
	js, err := os.ReadFile(axe)
	if err != nil {
		t.Fatal(err)
	}
	runner := `<script src="axe.min.js"></script><script>
(async () => {
  const d = document.documentElement;
  const out = {scrollWidth: d.scrollWidth, clientWidth: d.clientWidth, dark: matchMedia('(prefers-color-scheme: dark)').matches};
  const r = await axe.run(document, {resultTypes: ['violations']});
  out.violations = r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
  parent.postMessage(JSON.stringify(out), '*');
})();
</script></body>`
	files := map[string][]byte{
		"axe.min.js": js,
		"page.html":  bytes.Replace(page, []byte("</body>"), []byte(runner), 1),
	}
	for _, w := range []int{390, 1280} {
		files[fmt.Sprintf("frame-%d.html", w)] = []byte(fmt.Sprintf(`<!DOCTYPE html><html lang="en"><head><title>frame</title></head>`+
			`<body style="margin:0;background:#888"><iframe title="status page" src="page.html" style="border:0;width:%dpx;height:2400px"></iframe>`+
			`<script>addEventListener('message', e => document.documentElement.setAttribute('data-axe', e.data));</script></body></html>`, w))
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func runAxe(t *testing.T, browser, dir string, width int, dark bool) axeResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append(chromiumArgs(t, max(width, 500)+20, 900, dark), "--virtual-time-budget=60000", "--dump-dom",
		"file://"+filepath.Join(dir, fmt.Sprintf("frame-%d.html", width)))
	out, err := exec.CommandContext(ctx, browser, args...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	m := regexp.MustCompile(`data-axe="([^"]*)"`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("axe-core reported nothing at %d px:\n%.2000s", width, out)
	}
	var r axeResult
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func chromiumArgs(t *testing.T, width, height int, dark bool) []string {
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
		"--allow-file-access-from-files", "--user-data-dir=" + t.TempDir(), fmt.Sprintf("--window-size=%d,%d", width, height)}
	if dark {
		args = append(args, "--force-dark-mode")
	}
	return args
}

// TestAxeCheckFindsProblems: the axe-core check is not blind: a page with
// an image without a text alternative and a wide block fails it.
func TestAxeCheckFindsProblems(t *testing.T) {
	browser := chromium(t)
	axe := axeCore(t)
	dir := t.TempDir()
	writeAxePage(t, dir, axe, []byte(`<!DOCTYPE html><html lang="en"><head><title>bad</title></head><body><main><h1>bad</h1>`+
		`<img src="x.png"><div style="width:700px">too wide for a phone</div></main></body></html>`))
	r := runAxe(t, browser, dir, 390, false)
	if r.ScrollWidth <= r.ClientWidth {
		t.Errorf("a 700 px block in a %d px viewport was not seen as scrolling sideways (%d)", r.ClientWidth, r.ScrollWidth)
	}
	found := false
	for _, v := range r.Violations {
		found = found || v.ID == "image-alt"
	}
	if !found {
		t.Errorf("axe-core did not report the image without alt: %+v", r.Violations)
	}
}
