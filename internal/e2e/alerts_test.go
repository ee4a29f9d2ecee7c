package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/testenv"
)

// TestAlertmanagerFiresGroupsResolvesAndRepeats: a real Alertmanager with
// ibbot as its webhook receiver. Two alerts of one name are one message;
// Alertmanager's repeats change nothing in the room; one resolving edits
// the message and adds a line to its thread.
func TestAlertmanagerFiresGroupsResolvesAndRepeats(t *testing.T) {
	s := newStack(t)
	port := freeTCPPort(t)
	cfg := s.config(s.hs.URL)
	cfg.HTTP.Listen = fmt.Sprintf("127.0.0.1:%d", port)
	cfg.Alerts = config.Alerts{Webhook: config.AlertsWebhook{Path: "/alertmanager", Token: config.NewSecret("t0k3n-e2e")},
		Routes: []config.AlertRoute{{Rooms: []string{s.room.String()}, Match: map[string]string{"severity": "critical"}}}}
	startBot(t, cfg)
	ctx := context.Background()
	am, err := testenv.StartAlertmanager(ctx, fmt.Sprintf("http://127.0.0.1:%d/alertmanager", port), "t0k3n-e2e")
	if err != nil {
		t.Fatal(err)
	}
	defer am.Stop()
	alert := func(instance string, ends time.Time) map[string]any {
		a := map[string]any{"labels": map[string]string{"alertname": "ComposerDown", "severity": "critical", "instance": instance},
			"annotations": map[string]string{"summary": "composer is down", "runbook_url": "https://runbooks.example/composer"},
			"startsAt":    time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)}
		if !ends.IsZero() {
			a["endsAt"] = ends.UTC().Format(time.RFC3339)
		}
		return a
	}
	if err := am.Fire(ctx, alert("composer-1", time.Time{}), alert("composer-2", time.Time{})); err != nil {
		t.Fatal(err)
	}
	root := s.human.MustWait(t, wait, "the group's message", func(e *event.Event) bool {
		return isNotice(e) && strings.HasPrefix(testenv.Body(e), "🔥 ComposerDown (critical): 2 firing")
	})
	ask := s.human.MustSay(t, s.room, "!alerts")
	if got := testenv.Body(s.human.MustWait(t, wait, "the answer to !alerts", testenv.ReplyTo(ask))); !strings.HasPrefix(got, "🔥 ComposerDown (critical): 2 alerts") {
		t.Errorf("!alerts answered %q", got)
	}
	time.Sleep(5 * time.Second) // past repeat_interval: Alertmanager sends the group again
	if err := am.Fire(ctx, alert("composer-1", time.Now().Add(-time.Second)), alert("composer-2", time.Time{})); err != nil {
		t.Fatal(err)
	}
	s.human.MustWait(t, wait, "the resolution in the thread", func(e *event.Event) bool {
		rel := e.Content.AsMessage().RelatesTo
		return rel != nil && rel.Type == event.RelThread && rel.EventID == root.ID && testenv.Body(e) == "✓ resolved: instance=composer-1"
	})
	s.human.MustWait(t, wait, "the edit", func(e *event.Event) bool {
		rel := e.Content.AsMessage().RelatesTo
		nc := e.Content.AsMessage().NewContent
		return rel != nil && rel.Type == event.RelReplace && rel.EventID == root.ID && nc != nil && strings.Contains(nc.Body, "1 firing")
	})
	roots := 0
	for _, e := range s.human.Events() {
		if isNotice(e) && e.Content.AsMessage().RelatesTo == nil && strings.Contains(testenv.Body(e), "ComposerDown") {
			roots++
		}
	}
	if roots != 1 {
		t.Errorf("the group is %d messages, want 1 (repeats must change nothing)", roots)
	}
}
