package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/osbuild/ibbot/internal/testenv"
)

// TestDemo plays the demo as a newcomer would and checks the transcript,
// then goes off the script: every command a person may try in the demo
// room, asked after the scripted deploy, must agree with the demo's world
// (the histories its GitHub answers from), and with each other.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo builds and starts a homeserver; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	st := &stack{commandsPerMinute: 500}
	defer st.stop()
	var buf bytes.Buffer
	out := &squeezed{w: &buf}
	if err := st.start(ctx, out); err != nil {
		t.Fatalf("the demo did not start: %v\n%s", err, buf.String())
	}
	if err := st.play(ctx, out); err != nil {
		t.Fatalf("the demo failed: %v\n%s", err, buf.String())
	}
	checkTranscript(t, buf.String(), st.world)
	t.Run("off the script", func(t *testing.T) { checkOffScript(t, ctx, st) })
}

func checkTranscript(t *testing.T, transcript string, w *World) {
	t.Helper()
	for _, unwanted := range []string{"Codertocat", "octokit", "2012-", "KeyRemap4MacBook", "\n\n\n", "message(s)", " 0s ago", "->"} {
		if strings.Contains(transcript, unwanted) {
			t.Errorf("the demo shows %q:\n%s", unwanted, transcript)
		}
	}
	head := w.Head(composerRepo)[:7]
	for _, want := range []string{
		"demo: !help", "`!ping`: check that the bot is alive",
		"demo: !ping", "ibbot: pong (processed in",
		"demo: !hsah composer", "unknown command `!hsah`: did you mean `!hash`?",
		"demo: ibbot: version", "ibbot: ibbot ",
		"demo: !hash composer", "image-builder-composer runs 0e2daa2", "worker: retry uploads to AWS on throttling (#4507)” by Dana Kowalska",
		"2 commits behind main", "cloudapi: accept a GCE image family", "as of", "(20 hours ago)",
		"PNG, ", "kB: Architecture diagram of the Image Builder hosted service: image-builder-frontend → image-builder-crc",
		"demo: !contribute frontend", "npm ci",
		"osbuild/image-builder-frontend#2931", "Wizard: keep the selected architecture",
		"image-builder-composer deployed: 0e2daa2", "→ " + head, "#4512", "#4515",
		"demo: !deployed osbuild/osbuild-composer#4512", "✓ osbuild/osbuild-composer#4512 “cloudapi: accept a GCE image family” is in production",
		"demo: !deploys", "image-builder-composer: 1 deploy",
		"osbuild/image-builder-frontend#2980 Image type list hides WSL on aarch64", "issue by ana-silva",
		"(edits its message) osbuild/image-builder-frontend#2981 Wizard: offer WSL for aarch64", "merged",
		"dependency update", "bump @patternfly/react-core from 6.1.0 to 6.2.0", "bump @patternfly/react-core from 6.2.0 to 6.3.0",
		"demo: the bug in #2980 again?",
		"demo: !gh subscribe osbuild/image-builder ci", "subscribed this room to ci of osbuild/image-builder\n",
		"✗ CI: Tests failed on main of osbuild/image-builder", "✓ CI fixed: Tests passed again on main of osbuild/image-builder",
		"(added by @demo:", "demo: !gh unsubscribe osbuild/image-builder", "unsubscribed this room from osbuild/image-builder",
		"✉ Building RHEL 10 images for Azure — Ana Silva", "(in its thread) ibbot: Ondrej Novak: Yes: image-builder build vhd",
		"(in its thread) ibbot: Ana Silva: That worked, thank you!",
		"demo: !ml", "Building RHEL 10 images for Azure — Ana Silva", "2 replies",
		"demo: !docs how do I add a user to a blueprint", "Blueprint reference › Users (https://osbuild.org/docs/user-guide/blueprint-reference/#users)",
		"demo: !search build RHEL 10 images for Azure", "list · Building RHEL 10 images for Azure", "docs · Uploading to Azure",
		"🔥 ComposerSlow (warning): 1 firing — composer's API answers slowly", "runbook (https://runbooks.example.org/composer-slow)",
		"demo: !alerts", "🔥 ComposerSlow (warning): 1 alert, firing since 12 minutes ago",
		"🟠 Incident: Image builds fail for some image types · major impact · Investigating", "(in its thread) ibbot: Identified: A configuration change",
		"demo: !incidents", "🟠 Image builds fail for some image types", "Last resolved: Image exports to AWS delayed",
		"demo: !startmeeting Image Builder weekly", "🗓 Meeting started: Image Builder weekly", "demo: !topic Releases\n  (ibbot reacts ✅)",
		"📝 Minutes: Image Builder weekly", "Action items", "[file meeting-", ".log.txt",
		"demo: !meetings", "• Image Builder weekly (http://127.0.0.1:",
		"demo: !status", "messages waiting", "✓ mail: watching INBOX", "✓ sending",
		"(a newcomer joins the room)", "newcomer",
		"(the bot also serves the live architecture page: http://127.0.0.1:",
	} {
		if !strings.Contains(transcript, want) {
			t.Errorf("transcript lacks %q:\n%s", want, transcript)
		}
	}
}

// checkOffScript asks what the script does not, and checks each answer
// against the world; at the end every command in !help has been asked.
func checkOffScript(t *testing.T, ctx context.Context, st *stack) {
	w := st.world
	asked := map[string]bool{}
	ask := func(line string) string {
		t.Helper()
		asked[strings.TrimPrefix(strings.Fields(line)[0], "!")] = true
		evt, err := st.human.Say(ctx, st.room, line)
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		answer, err := st.human.WaitFor(wctx, testenv.ReplyTo(evt))
		if err != nil {
			t.Fatalf("no answer to %q: %v", line, err)
		}
		return testenv.Body(answer)
	}
	reacts := func(line string) {
		t.Helper()
		asked[strings.TrimPrefix(strings.Fields(line)[0], "!")] = true
		evt, err := st.human.Say(ctx, st.room, line)
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if _, err := st.human.WaitFor(wctx, func(e *event.Event) bool {
			_ = e.Content.ParseRaw(e.Type)
			return e.Type == event.EventReaction && e.Content.AsReaction().RelatesTo.EventID == evt
		}); err != nil {
			t.Errorf("no reaction to %q: %v", line, err)
		}
	}
	says := func(line string, want ...string) string {
		t.Helper()
		got := ask(line)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s:\n%s\nwant it to say %q", line, got, w)
			}
		}
		return got
	}

	// Composer was deployed to main's head: everything says so.
	head := w.Head(composerRepo)
	title, author, _ := w.Commit(composerRepo, head)
	says("!hash composer", "runs "+head[:7], "“"+title+"” by "+author, "It is the tip of main")
	says("!arch composer", "in production: "+head[:7])
	says("!deploys composer", "0e2daa2", "→ "+head[:7], "2 commits, 2 pull requests")

	// The others, as the world has them (the frontend's main moved on
	// with the demo's merge of #2981).
	table := ask("!hash")
	for _, c := range []struct{ id, name, repo string }{
		{"frontend", "image-builder-frontend", demoRepo},
		{"crc", "image-builder-crc", "osbuild/image-builder-crc"},
		{"worker", "worker fleet", "osbuild/osbuild"},
		{"composer", "image-builder-composer", composerRepo},
	} {
		sha := deployedSHA(c.repo)
		if c.repo == composerRepo {
			sha = head
		}
		n, prs := w.Behind(c.repo, sha)
		title, author, _ := w.Commit(c.repo, sha)
		row := tableRow(table, c.name)
		if !slices.Contains(row, sha[:7]) || !slices.Contains(row, strconv.Itoa(n)) {
			t.Errorf("!hash lists %s as %v; the world has %s, %d behind", c.name, row, sha[:7], n)
		}
		if n == 0 {
			continue
		}
		oldest, _, _, _ := w.Pull(c.repo, prs[0])
		says("!hash "+c.id, "runs "+sha[:7], "“"+title+"” by "+author, fmt.Sprintf("%d commit", n), oldest)
	}

	// Pull requests and commits, in production or not.
	for _, n := range []int{4512, 4515} {
		title, _, _, _ := w.Pull(composerRepo, n)
		says(fmt.Sprintf("!deployed %s#%d", composerRepo, n), fmt.Sprintf("✓ %s#%d “%s” is in production", composerRepo, n, title))
	}
	says("!deployed "+demoRepo+"#2981", "✗ "+demoRepo+"#2981 “Wizard: offer WSL for aarch64” is not in production yet")
	says("!deployed "+demoRepo+"#2968", "✓ "+demoRepo+"#2968")
	says("!deployed "+composerRepo+"#4509", composerRepo+" has no pull request #4509")
	older := w.repos["osbuild/image-builder-crc"].commits[3].sha
	says("!deployed "+older, "✓ commit "+older[:7]+" is in production on image-builder-crc")

	// Issues by number.
	issue, _ := w.Issue(demoRepo, 2931)
	says("!issue "+demoRepo+"#2931", issue, "open")
	pr, _ := w.Issue(composerRepo, 4515)
	says("!pr "+composerRepo+"#4515", pr)
	says("!issue osbuild/osbuild#1", "osbuild/osbuild has no issue or pull request #1")

	// Words a newcomer gets wrong, and parts of the diagram by name.
	says("!hash compser", "did you mean", "!hash composer")
	says("!arch worker", "in production: "+deployedSHA("osbuild/osbuild")[:7])
	says("!contribute", "#2931")
	says("!help deployed", "Example")
	says("!version", "ibbot ")
	says("!ping", "pong")
	says("!contact", "#image-builder:fedoraproject.org")
	says("!ml search Azure", "Building RHEL 10 images for Azure")
	says("!docs build an ISO from a bootc container", "https://osbuild.org/docs/bootc/building-isos/")
	says("!search partioning with lvm", "Partitioning and file systems") // a typo
	says("!search kubernetes zeppelin", "Nothing in the documentation, the list or the issues matches")
	says("!gh subscriptions", "osbuild/*")
	says("!alerts", "ComposerSlow")
	says("!incidents", "Image builds fail for some image types")
	says("!meetings", "Image Builder weekly")
	says("!reviews", "No outside pull request has waited more than 2 days for a first review")
	says("!topic no meeting", "No meeting runs here")
	says("!startmeeting Off the script", "🗓 Meeting started: Off the script")
	says("!startmeeting again", "A meeting runs here already")
	says("!link not-a-url", "give an http(s) address first")
	for _, line := range []string{"!info a note", "!action do a thing", "!agreed a thing", "!idea a thought", "!link https://osbuild.org/ the site",
		"!undo", "!meetingname Off the script, renamed", "!chair @someone:example.org", "!unchair @someone:example.org", "!endmeeting"} {
		reacts(line)
	}
	says("!status", "✓ sending")

	for _, name := range regexp.MustCompile("`!([a-z]+)").FindAllStringSubmatch(ask("!help"), -1) {
		if !asked[name[1]] {
			t.Errorf("!%s is in !help but not asked here", name[1])
		}
	}
	checkPage(t, ctx, st.pageURL, head)
}

// checkPage: the status page's data says what !hash says.
func checkPage(t *testing.T, ctx context.Context, url, head string) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"status.json", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var snap struct {
		Components []struct {
			ID, SHA string
			Behind  *int
		}
	}
	json.NewDecoder(resp.Body).Decode(&snap)
	for _, c := range snap.Components {
		if c.ID == "composer" && (c.SHA != head || c.Behind == nil || *c.Behind != 0) {
			t.Errorf("the page has composer at %s, %v behind; it runs main's head %s", c.SHA, c.Behind, head)
		}
	}
}

func deployedSHA(repo string) string {
	for _, s := range specs {
		if s.name == repo {
			return s.deployed
		}
	}
	return ""
}

// tableRow is the fields of the line of a rendered table naming name.
func tableRow(table, name string) []string {
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), name+" ") {
			return strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), name))
		}
	}
	return nil
}
