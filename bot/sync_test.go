package bot

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/store"
)

// TestOwnEventConfirmsOnlyInterruptedSends: the bot's own event coming back
// through sync settles a message an earlier run left unconfirmed, but not
// one this run is sending right now (the sender records that itself, and
// the operator should not read "interrupted" in the log for it).
func TestOwnEventConfirmsOnlyInterruptedSends(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "bot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b, err := New(Options{
		Config: config.Matrix{Homeserver: "http://127.0.0.1:1", UserID: "@ibbot:example.org"},
		Store:  st, Commands: NewTable(), Metrics: NewMetrics(prometheus.NewRegistry()), Log: zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"left-by-a-crash", "being-sent"} {
		if err := b.sender.enqueue(ctx, store.Outgoing{Key: key, RoomID: "!r:x", EventType: "m.room.message", Content: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	b.sender.inFlight.Store(TxnID("being-sent"), struct{}{})
	for _, key := range []string{"left-by-a-crash", "being-sent"} {
		b.confirmOwn(ctx, &event.Event{ID: id.EventID("$" + key), Sender: "@ibbot:example.org",
			Unsigned: event.Unsigned{TransactionID: TxnID(key)}})
	}

	if evt, _ := st.EventID(ctx, "left-by-a-crash"); evt != "$left-by-a-crash" {
		t.Errorf("the interrupted send was not settled by its own event: event id %q", evt)
	}
	if evt, _ := st.EventID(ctx, "being-sent"); evt != "" {
		t.Errorf("a send under way was settled by sync (event id %q); the sender records it", evt)
	}
}
