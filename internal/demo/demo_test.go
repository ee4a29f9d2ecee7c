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
	for _, want := range []string{
		"demo: !help", "`!ping`: check that the bot is alive",
		"demo: !ping", "ibbot: pong (processed in",
		"demo: !hsah composer", "unknown command `!hsah`: did you mean `!hash`?",
		"demo: ibbot: version", "ibbot: ibbot ",
		"demo: !hash composer", "image-builder-composer runs 0e2daa2",
		"[image architecture.png, 1520x", "demo: !contribute frontend", "npm ci",
		"image-builder-composer deployed: 0e2daa2", "→ 4f3c2b1",
		"Codertocat/Hello-World#1 Spelling error in the README file", "(edits its message) Codertocat/Hello-World#2", "merged",
		"dependency update", "bump golang.org/x/net from 0.40.0 to 0.41.0", "bump golang.org/x/net from 0.41.0 to 0.42.0",
		"demo: the bug in #1 again?",
		"✉ Building RHEL 10 images for Azure — Ana Silva", "(in its thread) ibbot: Ondrej Novak: Yes: image-builder build vhd",
		"(in its thread) ibbot: Ana Silva: That worked, thank you!",
	} {
		if !strings.Contains(transcript, want) {
			t.Errorf("transcript lacks %q:\n%s", want, transcript)
		}
	}
}
