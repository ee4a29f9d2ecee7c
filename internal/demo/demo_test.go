package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestDemoTranscript runs `ibbot demo` as a newcomer would (without
// staying up) and checks that every scripted line got its answer.
func TestDemoTranscript(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo builds and starts a homeserver; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := Run(ctx, &out, Options{Keep: false}); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	transcript := out.String()
	for _, unwanted := range []string{"Codertocat", "octokit", "2012-", "KeyRemap4MacBook"} {
		if strings.Contains(transcript, unwanted) {
			t.Errorf("the demo shows %q, data of another project:\n%s", unwanted, transcript)
		}
	}
	for _, want := range []string{
		"demo: !help", "`!ping`: check that the bot is alive",
		"demo: !ping", "ibbot: pong (processed in",
		"demo: !hsah composer", "unknown command `!hsah`: did you mean `!hash`?",
		"demo: ibbot: version", "ibbot: ibbot ",
		"demo: !hash composer", "image-builder-composer runs 0e2daa2", "worker: retry uploads to AWS on throttling",
		"2 commits behind main", "cloudapi: accept a GCE image family", "as of", "(20 hours ago)",
		"[image architecture.png, 1520x", "demo: !contribute frontend", "npm ci",
		"osbuild/image-builder-frontend#2931", "Wizard: keep the selected architecture",
		"image-builder-composer deployed: 0e2daa2", "→ 4f3c2b1",
		"demo: !deployed osbuild/osbuild-composer#4512", "✓ osbuild/osbuild-composer#4512 “cloudapi: accept a GCE image family” is in production",
		"demo: !deploys", "image-builder-composer: 1 deploy",
		"osbuild/image-builder-frontend#2980 Image type list hides WSL on aarch64", "issue by newcomer-ana",
		"(edits its message) osbuild/image-builder-frontend#2981 Wizard: offer WSL for aarch64", "merged",
		"dependency update", "bump @patternfly/react-core from 6.1.0 to 6.2.0", "bump @patternfly/react-core from 6.2.0 to 6.3.0",
		"demo: the bug in #2980 again?",
		"demo: !gh subscribe osbuild/images ci", "subscribed this room to ci of osbuild/images",
		"✗ CI: Tests fails on main of osbuild/images", "✓ CI fixed: Tests passes again on main of osbuild/images",
		"(added by @demo:", "demo: !gh unsubscribe osbuild/images", "unsubscribed this room from osbuild/images",
		"✉ Building RHEL 10 images for Azure — Ana Silva", "(in its thread) ibbot: Ondrej Novak: Yes: image-builder build vhd",
		"(in its thread) ibbot: Ana Silva: That worked, thank you!",
		"demo: !ml", "Building RHEL 10 images for Azure — Ana Silva", "2 replies",
		"demo: !status", "✓ mail: watching INBOX", "✓ sending",
		"(a newcomer joins the room)", "newcomer",
		"(the bot also serves the live architecture page: http://127.0.0.1:",
	} {
		if !strings.Contains(transcript, want) {
			t.Errorf("transcript lacks %q:\n%s", want, transcript)
		}
	}
}
