package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/osbuild/ibbot/internal/testenv"
)

// TestRoomsNamedAnywhereAreJoined: a room named only in prodhash.rooms is
// joined at start and gets the deploy announcements, while a room whose
// alias does not resolve waits without holding anything up, and !status
// names it.
func TestRoomsNamedAnywhereAreJoined(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	deploys, err := s.human.CreateRoom(ctx, "deploys", s.botUser.UserID)
	if err != nil {
		t.Fatal(err)
	}
	gone := "#no-such-room:" + s.botUser.UserID.Homeserver()
	cfg := s.config(s.hs.URL)
	cfg.ProdHash.Rooms = []string{gone, deploys.String()} // the broken one first
	cfg.ProdHash.CheckInterval = 100 * time.Millisecond
	cfg.ProdHash.CacheTTL = time.Hour // a deploy check revalidates anyway
	startBot(t, cfg)
	s.waitStatus(t, "✓ deploy announcements") // the first check records what runs now

	s.github.SetDiagram(deployedDiagram(composerSHA, newComposerSHA), time.Now())
	ann := s.human.MustWait(t, wait, "the deploy announcement in a room named only in prodhash.rooms", func(e *event.Event) bool {
		return e.RoomID == deploys && isNotice(e) && strings.Contains(testenv.Body(e), "image-builder-composer deployed")
	})
	if ann == nil {
		t.Fatal("no announcement")
	}
	// Commands still work while the bad room's message waits.
	cmd := s.human.MustSay(t, s.room, "!status")
	status := testenv.Body(s.human.MustWait(t, wait, "the !status answer", testenv.ReplyTo(cmd)))
	if !strings.Contains(status, "✗ sending") || !strings.Contains(status, gone+": the alias does not resolve") {
		t.Errorf("!status does not name the unreachable room:\n%s", status)
	}
}

// waitStatus asks !status until its answer has want: a part that has done
// its first round, say.
func (s *stack) waitStatus(t *testing.T, want string) string {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		cmd := s.human.MustSay(t, s.room, "!status")
		answer := testenv.Body(s.human.MustWait(t, wait, "the !status answer", testenv.ReplyTo(cmd)))
		if strings.Contains(answer, want) {
			return answer
		}
		if time.Now().After(deadline) {
			t.Fatalf("!status never said %q; last:\n%s", want, answer)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
