package e2e

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/osbuild/ibbot/internal/fixtures"
	"github.com/osbuild/ibbot/internal/testenv"
)

const (
	composerSHA    = "0e2daa201f0a0d97358a12740bfad416c9e4f7b4"
	newComposerSHA = "1111111111111111111111111111111111111111"
	workerSHA      = "fd6801e380a87fb0026c1c73af7e17614fa6efb8"
	newWorkerSHA   = "2222222222222222222222222222222222222222"
)

// deployedDiagram is the newest real diagram with some links moved on, as
// the daily bot commit does after a deploy.
func deployedDiagram(swaps ...string) []byte {
	svg := fixtures.Read(fixtures.DiagramNewest)
	for i := 0; i+1 < len(swaps); i += 2 {
		svg = bytes.ReplaceAll(svg, []byte(swaps[i]), []byte(swaps[i+1]))
	}
	return svg
}

func announcementOf(name string) func(*event.Event) bool {
	return func(e *event.Event) bool {
		return isNotice(e) && strings.Contains(testenv.Body(e), name+" deployed")
	}
}

// TestHashAndDeployAnnouncements: !hash composer names the production
// commit; a new diagram is announced exactly once, not again after a
// restart; with the diagram down the answer is the last good one, stale.
func TestHashAndDeployAnnouncements(t *testing.T) {
	s := newStack(t)
	cfg := s.config(s.hs.URL)
	cfg.ProdHash.Rooms = []string{s.room.String()}
	cfg.ProdHash.CheckInterval = 100 * time.Millisecond
	cfg.ProdHash.CacheTTL = 0 // every look is a (conditional) request
	first := startBot(t, cfg)

	cmd := s.human.MustSay(t, s.room, "!hash composer")
	answer := testenv.Body(s.human.MustWait(t, wait, "the !hash answer", testenv.ReplyTo(cmd)))
	for _, want := range []string{"image-builder-composer runs 0e2daa2", composerSHA,
		"allow override of the per_page parameter", "2 commits behind main"} {
		if !strings.Contains(answer, want) {
			t.Errorf("!hash composer lacks %q:\n%s", want, answer)
		}
	}

	s.github.SetDiagram(deployedDiagram(composerSHA, newComposerSHA), time.Now())
	ann := s.human.MustWait(t, wait, "the deploy announcement", announcementOf("image-builder-composer"))
	if body := testenv.Body(ann); !strings.Contains(body, "0e2daa2 (") || !strings.Contains(body, "→ 1111111") {
		t.Errorf("announcement: %s", body)
	}
	cmd = s.human.MustSay(t, s.room, "!deploys composer")
	history := testenv.Body(s.human.MustWait(t, wait, "the !deploys answer", testenv.ReplyTo(cmd)))
	if !strings.Contains(history, "image-builder-composer 0e2daa2") || !strings.Contains(history, "image-builder-composer: 1 deploy") {
		t.Errorf("!deploys does not list the deploy:\n%s", history)
	}
	first.stop()

	startBot(t, cfg)
	// Move the worker fleet on too: the check that announces it has passed
	// composer (catalogue order), so a repeat would be in the room by then.
	s.github.SetDiagram(deployedDiagram(composerSHA, newComposerSHA, workerSHA, newWorkerSHA), time.Now())
	s.human.MustWait(t, wait, "the worker deploy", announcementOf("worker fleet"))
	s.settle(t)
	if n := s.human.Count(announcementOf("image-builder-composer")); n != 1 {
		t.Errorf("composer deploy announced %d times, want exactly 1", n)
	}
	if n := s.human.Count(announcementOf("worker fleet")); n != 1 {
		t.Errorf("worker deploy announced %d times, want exactly 1", n)
	}

	s.github.SetDiagramDown(true)
	cmd = s.human.MustSay(t, s.room, "!hash composer")
	answer = testenv.Body(s.human.MustWait(t, wait, "the stale answer", testenv.ReplyTo(cmd)))
	if !strings.Contains(answer, "runs 1111111") || !strings.Contains(answer, "Stale:") || !strings.Contains(answer, "503") {
		t.Errorf("with the diagram down, want the last good value marked stale:\n%s", answer)
	}
}
