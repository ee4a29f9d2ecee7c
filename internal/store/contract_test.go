package store_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/testenv"
)

// backend opens the same database again and again, as restarts do.
type backend struct {
	name string
	open func(t *testing.T) func() (*store.DB, error)
}

// pg is one PostgreSQL server for the package's tests (started by
// TestMain); pgErr says why there is none.
var (
	pg    *testenv.Postgres
	pgErr error
)

func TestMain(m *testing.M) {
	pg, pgErr = testenv.StartPostgres()
	code := m.Run()
	if pg != nil {
		pg.Stop()
	}
	os.Exit(code)
}

// backends are SQLite (a file) and a real PostgreSQL server: every test
// below runs on both, so the two stores behave the same.
var backends = []backend{
	{"sqlite", func(t *testing.T) func() (*store.DB, error) {
		path := filepath.Join(t.TempDir(), "ibbot.db")
		return func() (*store.DB, error) { return store.OpenSQLite(context.Background(), path) }
	}},
	{"postgres", func(t *testing.T) func() (*store.DB, error) {
		if pgErr != nil {
			// A developer without PostgreSQL skips; CI installs it and fails.
			if errors.Is(pgErr, testenv.ErrNoPostgres) && os.Getenv("CI") != "true" {
				t.Skip(pgErr)
			}
			t.Fatal(pgErr)
		}
		dsn := pg.EmptyDB(t)
		return func() (*store.DB, error) { return store.Open(context.Background(), dsn) }
	}},
}

func forEachBackend(t *testing.T, test func(t *testing.T, open func() (*store.DB, error))) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b.open(t)) })
	}
}

func mustOpen(t *testing.T, open func() (*store.DB, error)) *store.DB {
	t.Helper()
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStoreKeepsStateAcrossReopen(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() (*store.DB, error)) {
		ctx := context.Background()
		s := mustOpen(t, open)
		s.Put(ctx, "k", "v1")
		s.Put(ctx, "k", "v2")
		msg := store.Outgoing{Key: "a", RoomID: "!r", EventType: "m.room.message", Content: []byte(`{"body":"é"}`), CreatedAt: time.Now()}
		added, _ := s.Enqueue(ctx, msg)
		again, _ := s.Enqueue(ctx, msg)
		if !added || again {
			t.Fatalf("enqueue added=%v, duplicate added=%v", added, again)
		}
		s.Close()

		s = mustOpen(t, open) // migrations run again: nothing to do
		if v, ok, _ := s.Get(ctx, "k"); !ok || v != "v2" {
			t.Errorf("kv after reopen = %q %v", v, ok)
		}
		if _, ok, _ := s.Get(ctx, "missing"); ok {
			t.Error("a missing key was found")
		}
		pending, _ := s.Pending(ctx, 10)
		if len(pending) != 1 || string(pending[0].Content) != `{"body":"é"}` {
			t.Errorf("pending after reopen = %+v", pending)
		}
	})
}

// An answer someone waits for overtakes announcements already queued;
// each kind keeps its own order.
func TestUrgentMessagesGoFirst(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() (*store.DB, error)) {
		ctx := context.Background()
		s := mustOpen(t, open)
		for _, m := range []struct {
			key    string
			urgent bool
		}{{"announce-1", false}, {"announce-2", false}, {"reply-1", true}, {"announce-3", false}, {"reply-2", true}} {
			s.Enqueue(ctx, store.Outgoing{Key: m.key, RoomID: "!r", EventType: "m.room.message", Content: []byte("{}"), CreatedAt: time.Now(), Urgent: m.urgent})
		}
		msgs, err := s.Pending(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, m := range msgs {
			keys = append(keys, m.Key)
		}
		if want := []string{"reply-1", "reply-2", "announce-1", "announce-2", "announce-3"}; !slices.Equal(keys, want) {
			t.Errorf("pending order %v, want %v", keys, want)
		}
		if !msgs[0].Urgent || msgs[2].Urgent {
			t.Errorf("urgency read back wrong: %+v", msgs)
		}
	})
}

func TestOutboxLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() (*store.DB, error)) {
		ctx := context.Background()
		s := mustOpen(t, open)
		old := time.Now().Add(-48 * time.Hour)
		for _, k := range []string{"first", "second", "third"} {
			s.Enqueue(ctx, store.Outgoing{Key: k, RoomID: "!r", EventType: "m.room.message", Content: []byte("{}"),
				CreatedAt: old, TxnID: "txn-" + k, Relation: "thread", TargetKey: "root"})
		}
		msgs, err := s.Pending(ctx, 10)
		if err != nil || len(msgs) != 3 || msgs[0].Key != "first" || msgs[2].Key != "third" {
			t.Fatalf("pending = %+v, %v; want first, second, third in order", msgs, err)
		}
		if msgs[1].Relation != "thread" || msgs[1].TargetKey != "root" || !msgs[1].CreatedAt.Equal(old.Truncate(time.Millisecond)) {
			t.Errorf("message read back as %+v", msgs[1])
		}
		s.Claim(ctx, msgs[0].ID, "sending")
		s.Claim(ctx, msgs[0].ID, "HTTP 502")
		s.MarkSent(ctx, msgs[0].ID, "$first", old)
		s.MarkFailed(ctx, msgs[1].ID, "M_FORBIDDEN", old)
		if marked, _ := s.MarkSentByTxn(ctx, "txn-third", "$third", time.Now()); !marked {
			t.Error("MarkSentByTxn did not settle the third message")
		}
		if marked, _ := s.MarkSentByTxn(ctx, "txn-third", "$third", time.Now()); marked {
			t.Error("MarkSentByTxn settled an already sent message again")
		}
		if n, _ := s.PendingCount(ctx); n != 0 {
			t.Errorf("%d pending, want 0", n)
		}
		for key, want := range map[string]string{"first": "$first", "second": "", "third": "$third", "unknown": ""} {
			if got, _ := s.EventID(ctx, key); got != want {
				t.Errorf("EventID(%s) = %q, want %q", key, got, want)
			}
		}
		// Pruning forgets finished messages older than the cutoff only.
		if n, _ := s.PruneDone(ctx, time.Now(), store.Retention{Outbox: 24 * time.Hour}); n != 2 {
			t.Errorf("pruned %d, want 2 (first and second)", n)
		}
		for key, want := range map[string]bool{"first": false, "second": false, "third": true} {
			if known, _ := s.Known(ctx, key); known != want {
				t.Errorf("Known(%s) = %v after pruning, want %v", key, known, want)
			}
		}
	})
}

// TestAnchorsOutliveTheOutbox: pruning the outbox forgets ordinary keys
// but keeps an anchor's event id as a relation, refreshed by each edit
// pruned with it, and dropped only after retention.relations without use.
func TestAnchorsOutliveTheOutbox(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() (*store.DB, error)) {
		ctx := context.Background()
		s := mustOpen(t, open)
		day := 24 * time.Hour
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		keep := store.Retention{Outbox: 7 * day, Relations: 90 * day}
		send := func(key string, at time.Time, m store.Outgoing) {
			t.Helper()
			m.Key, m.RoomID, m.EventType, m.Content, m.CreatedAt, m.TxnID = key, "!r:hs", "m.room.message", []byte("{}"), at, "txn-"+key
			if added, err := s.Enqueue(ctx, m); !added || err != nil {
				t.Fatalf("Enqueue(%s) = %v, %v", key, added, err)
			}
			if ok, err := s.MarkSentByTxn(ctx, "txn-"+key, "$"+key, at); !ok || err != nil {
				t.Fatalf("could not mark %s sent", key)
			}
		}
		send("root", t0, store.Outgoing{Anchor: true})
		send("notice", t0, store.Outgoing{})
		if _, err := s.PruneDone(ctx, t0.Add(20*day), keep); err != nil {
			t.Fatal(err)
		}
		if evt, _ := s.EventID(ctx, "root"); evt != "$root" {
			t.Errorf("after 20 days the anchor's event id is %q, want $root", evt)
		}
		if known, _ := s.Known(ctx, "notice"); known {
			t.Error("an ordinary key outlived the outbox retention")
		}
		// The same anchor key is never posted twice, even after pruning.
		if added, _ := s.Enqueue(ctx, store.Outgoing{Key: "root", RoomID: "!r:hs", EventType: "m.room.message", Content: []byte("{}"), CreatedAt: t0}); added {
			t.Error("an anchor's key was enqueued again after its outbox row was pruned")
		}
		// An edit on day 80 keeps the relation alive past day 90 + 20.
		send("edit", t0.Add(80*day), store.Outgoing{Relation: "replace", TargetKey: "root"})
		s.PruneDone(ctx, t0.Add(100*day), keep)
		if evt, _ := s.EventID(ctx, "root"); evt != "$root" {
			t.Errorf("a relation used on day 80 was dropped on day 100: %q", evt)
		}
		s.PruneDone(ctx, t0.Add(150*day), keep)
		if evt, _ := s.EventID(ctx, "root"); evt != "$root" {
			t.Errorf("a relation last used on day ~93 was dropped on day 150: %q", evt)
		}
		s.PruneDone(ctx, t0.Add(200*day), keep)
		if evt, _ := s.EventID(ctx, "root"); evt != "" {
			t.Errorf("a relation unused for over 90 days is still kept: %q", evt)
		}
		// Relations: 0 keeps them forever.
		send("root2", t0.Add(200*day), store.Outgoing{Anchor: true})
		s.PruneDone(ctx, t0.Add(5000*day), store.Retention{Outbox: 7 * day})
		if evt, _ := s.EventID(ctx, "root2"); evt != "$root2" {
			t.Errorf("retention.relations 0 dropped a relation: %q", evt)
		}
	})
}

func TestDeliveriesInArrivalOrder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() (*store.DB, error)) {
		ctx := context.Background()
		s := mustOpen(t, open)
		at := time.Now()
		// Same millisecond: arrival order still decides.
		for _, id := range []string{"zz", "aa", "mm"} {
			if ok, err := s.SaveDelivery(ctx, store.Delivery{ID: id, Event: "issues", Payload: []byte(`{"n":"` + id + `"}`)}, at); !ok || err != nil {
				t.Fatalf("SaveDelivery(%s) = %v, %v", id, ok, err)
			}
		}
		if ok, _ := s.SaveDelivery(ctx, store.Delivery{ID: "aa", Event: "issues", Payload: []byte("{}")}, at); ok {
			t.Error("a redelivery was saved again")
		}
		ds, _ := s.PendingDeliveries(ctx, 10)
		var ids []string
		for _, d := range ds {
			ids = append(ids, d.ID)
		}
		if !slices.Equal(ids, []string{"zz", "aa", "mm"}) || string(ds[1].Payload) != `{"n":"aa"}` {
			t.Fatalf("pending deliveries %v (%+v), want zz, aa, mm with payloads", ids, ds)
		}
		s.DeliveryDone(ctx, "zz")
		if ds, _ := s.PendingDeliveries(ctx, 1); len(ds) != 1 || ds[0].ID != "aa" {
			t.Errorf("after zz is done, next = %+v", ds)
		}
		if ok, _ := s.SaveDelivery(ctx, store.Delivery{ID: "zz", Event: "issues", Payload: []byte("{}")}, at); ok {
			t.Error("a redelivery of a processed delivery was saved again")
		}
		if n, _ := s.PruneDeliveries(ctx, at.Add(time.Second)); n != 1 {
			t.Errorf("pruned %d deliveries, want 1 (the processed one)", n)
		}
	})
}

func TestItemsAndDigests(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() (*store.DB, error)) {
		ctx := context.Background()
		s := mustOpen(t, open)
		now := time.Now()
		s.PutItem(ctx, "o/r#1", store.ItemRow{Data: "v1", Version: 1}, now)
		s.PutItem(ctx, "o/r#1", store.ItemRow{Data: "v2", Version: 2, DueAt: now.Add(-time.Second)}, now)
		s.PutItem(ctx, "o/r#2", store.ItemRow{Data: "x", DueAt: now.Add(time.Hour)}, now)
		if r, ok, _ := s.Item(ctx, "o/r#1"); !ok || r.Data != "v2" || r.Version != 2 || r.DueAt.IsZero() {
			t.Errorf("item = %+v %v", r, ok)
		}
		if _, ok, _ := s.Item(ctx, "o/r#3"); ok {
			t.Error("a missing item was found")
		}
		if due, _ := s.DueItems(ctx, now); !slices.Equal(due, []string{"o/r#1"}) {
			t.Errorf("due = %v, want o/r#1", due)
		}

		e := store.DigestEntry{Room: "!r", Repo: "o/r", ItemKey: "o/r#5", Title: "bump x", URL: "u", AddedAt: now}
		s.AddDigest(ctx, e)
		s.AddDigest(ctx, e)
		e.ItemKey, e.AddedAt = "o/r#6", now.Add(time.Second)
		s.AddDigest(ctx, e)
		if ds, _ := s.Digests(ctx); len(ds) != 2 || ds[0].ItemKey != "o/r#5" || ds[1].ItemKey != "o/r#6" {
			t.Errorf("digests = %+v", ds)
		}
		s.DropDigest(ctx, "!r", []string{"o/r#5", "o/r#6"})
		if ds, _ := s.Digests(ctx); len(ds) != 0 {
			t.Errorf("digests after drop = %+v", ds)
		}
	})
}

func TestMailThreadsAndSearch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() (*store.DB, error)) {
		ctx := context.Background()
		s := mustOpen(t, open)
		day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		rows := []store.MailRow{
			{MessageID: "a", RootID: "a", Subject: "RHEL 10 on Azure", Author: "Ana", SentAt: day, ListID: "ib.lists.x"},
			{MessageID: "b", RootID: "b", Subject: "100% disk usage_in composer", Author: "Bo", SentAt: day.Add(time.Hour), ListID: "IB.lists.x"},
			{MessageID: "a1", RootID: "a", Subject: "Re: RHEL 10 on Azure", Author: "Ondrej", SentAt: day.Add(2 * time.Hour), ListID: "ib.lists.x"},
			{MessageID: "c", RootID: "c", Subject: "Secret RHEL plans", Author: "Cy", SentAt: day.Add(3 * time.Hour), ListID: "private.lists.x"},
		}
		var counts []int
		for _, r := range rows {
			n, err := s.AddMail(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			counts = append(counts, n)
		}
		if n, _ := s.AddMail(ctx, rows[2]); n != 1 { // the same mail again
			t.Errorf("a duplicate reply changed the count to %d", n)
		}
		if !slices.Equal(counts, []int{0, 0, 1, 0}) {
			t.Errorf("reply counts %v, want 0 0 1 0", counts)
		}
		if root, ok, _ := s.MailRoot(ctx, "a1"); !ok || root != "a" {
			t.Errorf("root of a1 = %q %v", root, ok)
		}
		if r, ok, _ := s.MailThread(ctx, "a"); !ok || r.Subject != "RHEL 10 on Azure" || r.Author != "Ana" || r.Replies != 1 || !r.SentAt.Equal(day) {
			t.Errorf("thread a = %+v %v", r, ok)
		}
		if _, ok, _ := s.MailThread(ctx, "nope"); ok {
			t.Error("a missing thread was found")
		}
		if other, _ := s.MailThreads(ctx, "", []string{"private.lists.x"}, 10); len(other) != 1 || other[0].MessageID != "c" {
			t.Errorf("threads of the other list = %+v, want c alone", other)
		}
		if none, _ := s.MailThreads(ctx, "", nil, 10); len(none) != 0 {
			t.Errorf("threads of no list = %+v, want none", none)
		}
		threads, _ := s.MailThreads(ctx, "", []string{"ib.lists.x"}, 10)
		if len(threads) != 2 || threads[0].MessageID != "b" || threads[1].Replies != 1 || !threads[1].SentAt.Equal(day) {
			t.Errorf("threads = %+v, want b then a (1 reply)", threads)
		}
		for query, want := range map[string]string{
			"azure rhel": "a", // every word, any case
			"100%":       "b", // % and _ are literal, not wildcards
			"usage_in":   "b",
			"10%":        "",
			"e_1":        "",
		} {
			found, err := s.MailThreads(ctx, query, []string{"ib.lists.x"}, 10)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range found {
				ids = append(ids, r.MessageID)
			}
			if strings.Join(ids, ",") != want {
				t.Errorf("search %q found %v, want %q", query, ids, want)
			}
		}
	})
}

// TestPostgresErrorsHideThePassword: a failed connection is reported (and
// logged) without the password of the URL.
func TestPostgresErrorsHideThePassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://ibbot:hunter2-secret@127.0.0.1:1/ibbot?connect_timeout=2",
		"postgres://ibbot:hunter2-secret@127.0.0.1:1/ibbot?sslmode=bogus",
	} {
		_, err := store.Open(context.Background(), dsn)
		if err == nil {
			t.Fatalf("%s: no error", dsn)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

func TestDeployHistory(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() (*store.DB, error)) {
		ctx := context.Background()
		s := mustOpen(t, open)
		t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
		rows := []store.DeployRow{
			{Component: "composer", Number: 1, From: "a", To: "b", SeenAt: t0, Commits: 3, Changes: `[{"pr":1}]`, Lead: 26 * time.Hour, LeadKnown: true},
			{Component: "composer", Number: 2, From: "b", To: "a", SeenAt: t0.Add(time.Hour), Rollback: true, Commits: 3, Changes: "[]"},
			{Component: "crc", Number: 1, From: "c", To: "d", SeenAt: t0.Add(2 * time.Hour), Commits: -1, Changes: "[]"},
		}
		for _, r := range append(rows, rows[0]) { // the repeat is ignored
			if err := s.RecordDeploy(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		all, err := s.Deploys(ctx, "", t0, 10)
		if err != nil || len(all) != 3 || all[0].Component != "crc" || all[2].Lead != 26*time.Hour || !all[1].Rollback || all[0].LeadKnown {
			t.Fatalf("all deploys: %+v, %v", all, err)
		}
		one, _ := s.Deploys(ctx, "composer", t0.Add(30*time.Minute), 10)
		if len(one) != 1 || one[0].Number != 2 {
			t.Errorf("composer since 12:30: %+v", one)
		}
	})
}

// TestPostgresFromEnvironment: a bare postgres:// URL takes the address,
// database and user from the PG* variables, as a container's Secret sets
// them (templates/openshift).
func TestPostgresFromEnvironment(t *testing.T) {
	if pgErr != nil {
		t.Skip(pgErr)
	}
	u, err := url.Parse(pg.EmptyDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGHOST", u.Hostname())
	t.Setenv("PGPORT", u.Port())
	t.Setenv("PGDATABASE", strings.TrimPrefix(u.Path, "/"))
	t.Setenv("PGUSER", u.User.Username())
	t.Setenv("PGSSLMODE", "disable")
	s, err := store.Open(context.Background(), "postgres://")
	if err != nil {
		t.Fatalf("postgres:// with PG* set: %v", err)
	}
	defer s.Close()
	if err := s.Put(context.Background(), "k", "v"); err != nil {
		t.Fatal(err)
	}
}

// TestReplicasMigrateOnce: replicas starting together on an empty
// database each wait for the one migrating; none fails or applies a step
// twice.
func TestReplicasMigrateOnce(t *testing.T) {
	if pgErr != nil {
		t.Skip(pgErr)
	}
	dsn := pg.EmptyDB(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := store.Open(context.Background(), dsn)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("a replica failed to start: %v", err)
		}
	}
}

func TestRoomChoices(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() (*store.DB, error)) {
		ctx := context.Background()
		s := mustOpen(t, open)
		at := time.UnixMilli(time.Now().UnixMilli())
		s.PutRoomChoice(ctx, store.RoomChoice{Kind: "github", RoomID: "!a", Target: "osbuild/osbuild", Spec: `{"events":["issues"]}`, By: "@x", At: at})
		s.PutRoomChoice(ctx, store.RoomChoice{Kind: "github", RoomID: "!a", Target: "osbuild/images", Muted: true, By: "@y", At: at.Add(time.Second)})
		s.PutRoomChoice(ctx, store.RoomChoice{Kind: "github", RoomID: "!a", Target: "osbuild/osbuild", Spec: `{"events":["pulls"]}`, By: "@z", At: at.Add(2 * time.Second)})
		s.PutRoomChoice(ctx, store.RoomChoice{Kind: "mail", RoomID: "!a", Target: "osbuild/osbuild", By: "@m", At: at})
		got, err := s.RoomChoices(ctx, "github")
		if err != nil || len(got) != 2 {
			t.Fatalf("room choices %+v, %v", got, err)
		}
		if got[0].Target != "osbuild/images" || !got[0].Muted || got[1].Spec != `{"events":["pulls"]}` || got[1].By != "@z" || !got[1].At.Equal(at.Add(2*time.Second)) {
			t.Errorf("read back %+v", got)
		}
		s.DeleteRoomChoice(ctx, "github", "!a", "osbuild/images")
		if got, _ := s.RoomChoices(ctx, "github"); len(got) != 1 {
			t.Errorf("after delete: %+v", got)
		}
		s.Close()
		s = mustOpen(t, open)
		if got, _ := s.RoomChoices(ctx, "mail"); len(got) != 1 || got[0].By != "@m" {
			t.Errorf("the other kind after reopening: %+v", got)
		}
	})
}

// TestMoveRoom: after an upgrade, what the old room chose (every kind)
// belongs to its replacement; a choice the replacement made meanwhile
// wins.
func TestMoveRoom(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() (*store.DB, error)) {
		ctx := context.Background()
		s := mustOpen(t, open)
		defer s.Close()
		at := time.UnixMilli(time.Now().UnixMilli())
		s.PutRoomChoice(ctx, store.RoomChoice{Kind: "github", RoomID: "!old", Target: "osbuild/images", Spec: `{"events":["ci"]}`, By: "@a", At: at})
		s.PutRoomChoice(ctx, store.RoomChoice{Kind: "settings", RoomID: "!old", Target: "threads", Spec: "off", By: "@a", At: at})
		s.PutRoomChoice(ctx, store.RoomChoice{Kind: "settings", RoomID: "!new", Target: "threads", Spec: "on", By: "@b", At: at})
		s.PutRoomChoice(ctx, store.RoomChoice{Kind: "github", RoomID: "!other", Target: "osbuild/osbuild", By: "@c", At: at})
		if err := s.MoveRoom(ctx, "!old", "!new"); err != nil {
			t.Fatal(err)
		}
		gh, _ := s.RoomChoices(ctx, "github")
		settings, _ := s.RoomChoices(ctx, "settings")
		rooms := func(rows []store.RoomChoice) (out []string) {
			for _, r := range rows {
				out = append(out, r.RoomID+" "+r.Target+" "+r.Spec)
			}
			slices.Sort(out)
			return out
		}
		if got := rooms(gh); !slices.Equal(got, []string{`!new osbuild/images {"events":["ci"]}`, "!other osbuild/osbuild "}) {
			t.Errorf("github choices after the move: %q", got)
		}
		if got := rooms(settings); !slices.Equal(got, []string{"!new threads on"}) {
			t.Errorf("settings after the move: %q (the replacement's own choice wins)", got)
		}
	})
}

// TestSearchDocsAreFollowedBySeq: a follower reading past the last seq it
// saw learns every change once, in order: new documents, changed ones,
// deletions; a document written again unchanged is no change.
func TestSearchDocsAreFollowedBySeq(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() (*store.DB, error)) {
		ctx := context.Background()
		s := mustOpen(t, open)
		at := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
		a := store.SearchDoc{ID: "docs:a", Kind: "docs", Title: "A", Body: "alpha", URL: "https://x/a/"}
		b := store.SearchDoc{ID: "mail:b", Kind: "mail", Scope: "List.Example.Org", Title: "B", Body: "beta", Dated: at}
		if err := s.PutSearchDocs(ctx, a, b); err != nil {
			t.Fatal(err)
		}
		all, err := s.SearchDocsSince(ctx, 0, 10)
		if err != nil || len(all) != 2 || all[0].ID != "docs:a" || all[1].Scope != "list.example.org" || !all[1].Dated.Equal(at) {
			t.Fatalf("first read: %+v %v", all, err)
		}
		last := all[1].Seq
		if err := s.PutSearchDocs(ctx, a); err != nil {
			t.Fatal(err)
		}
		if again, _ := s.SearchDocsSince(ctx, last, 10); len(again) != 0 {
			t.Errorf("an unchanged document came again: %+v", again)
		}
		a.Body = "alpha, changed"
		if err := s.PutSearchDocs(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSearchDocs(ctx, "mail:b", "mail:unknown"); err != nil {
			t.Fatal(err)
		}
		changes, _ := s.SearchDocsSince(ctx, last, 10)
		if len(changes) != 2 || changes[0].Body != "alpha, changed" || !changes[1].Deleted || changes[1].Body != "" || changes[0].Seq >= changes[1].Seq {
			t.Errorf("changes after %d: %+v", last, changes)
		}
		if ids, _ := s.SearchDocIDs(ctx, "docs", "docs:"); !slices.Equal(ids, []string{"docs:a"}) {
			t.Errorf("live docs: %v", ids)
		}
		if ids, _ := s.SearchDocIDs(ctx, "mail", "mail:"); len(ids) != 0 {
			t.Errorf("a deleted document is live: %v", ids)
		}
		if err := s.PutSearchDocs(ctx, b); err != nil {
			t.Fatal(err)
		}
		if d, ok, _ := s.SearchDoc(ctx, "mail:b"); !ok || d.Deleted || d.Body != "beta" {
			t.Errorf("a document written again after its deletion: %+v", d)
		}
	})
}

func TestMailThreadsUnsearched(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() (*store.DB, error)) {
		ctx := context.Background()
		s := mustOpen(t, open)
		for _, r := range []store.MailRow{
			{MessageID: "a@x", RootID: "a@x", Subject: "A", SentAt: time.UnixMilli(1000), Excerpt: "first"},
			{MessageID: "b@x", RootID: "a@x", Subject: "Re: A", SentAt: time.UnixMilli(2000)},
			{MessageID: "c@x", RootID: "c@x", Subject: "C", SentAt: time.UnixMilli(3000), ListID: "L.example.org"},
		} {
			if _, err := s.AddMail(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.MailThreadsUnsearched(ctx, 10)
		if err != nil || len(got) != 2 || got[0].MessageID != "a@x" || got[0].Excerpt != "first" || got[1].ListID != "l.example.org" {
			t.Fatalf("unsearched: %+v %v", got, err)
		}
		if err := s.PutSearchDocs(ctx, store.SearchDoc{ID: "mail:a@x", Kind: "mail", Title: "A"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.MailThreadsUnsearched(ctx, 10); len(got) != 1 || got[0].MessageID != "c@x" {
			t.Errorf("after one was searched: %+v", got)
		}
	})
}

func TestAlertNoticesAreRecordedOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() (*store.DB, error)) {
		ctx := context.Background()
		s := mustOpen(t, open)
		for i, id := range []string{"am:1", "am:2", "am:1"} {
			added, err := s.RecordAlert(ctx, id, []byte(`{"n":"`+id+`"}`), time.UnixMilli(int64(1000+i)))
			if err != nil || added != (i < 2) {
				t.Fatalf("record %d (%s): %v %v", i, id, added, err)
			}
		}
		pending, _ := s.PendingAlerts(ctx, 10)
		if len(pending) != 2 || pending[0].ID != "am:1" || string(pending[1].Body) != `{"n":"am:2"}` {
			t.Fatalf("pending %+v", pending)
		}
		if err := s.AlertDone(ctx, "am:1"); err != nil {
			t.Fatal(err)
		}
		if pending, _ := s.PendingAlerts(ctx, 10); len(pending) != 1 || pending[0].ID != "am:2" {
			t.Errorf("after one was done: %+v", pending)
		}
	})
}

// TestMeetingsKeepTheirLines: a meeting's lines are kept once each in the
// order seen, edited and redacted only while it runs; ended meetings are
// listed newest first; a mail queued is found by its Message-ID.
func TestMeetingsKeepTheirLines(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() (*store.DB, error)) {
		ctx := context.Background()
		s := mustOpen(t, open)
		at := time.UnixMilli(1_000_000)
		m := store.Meeting{ID: "$start", RoomID: "!r:x", Name: "weekly", StartedBy: "@a:x", StartedAt: at}
		if ok, err := s.StartMeeting(ctx, m); !ok || err != nil {
			t.Fatalf("start: %v %v", ok, err)
		}
		if ok, _ := s.StartMeeting(ctx, m); ok {
			t.Error("a meeting started twice")
		}
		for i, ev := range []string{"$start", "$b", "$c", "$b"} {
			if err := s.AddMeetingLine(ctx, store.MeetingLine{MeetingID: "$start", EventID: ev, Sender: "@a:x", SaidAt: at.Add(time.Duration(i) * time.Second), Body: "line " + ev, Chair: i == 0}); err != nil {
				t.Fatal(err)
			}
		}
		if ok, err := s.EditMeetingLine(ctx, "$b", "line b, edited"); !ok || err != nil {
			t.Errorf("edit: %v %v", ok, err)
		}
		if ok, err := s.RedactMeetingLine(ctx, "$c"); !ok || err != nil {
			t.Errorf("redact: %v %v", ok, err)
		}
		lines, err := s.MeetingLines(ctx, "$start")
		if err != nil || len(lines) != 3 || lines[0].EventID != "$start" || !lines[0].Chair || lines[1].Body != "line b, edited" || !lines[1].Edited ||
			!lines[2].Redacted || lines[2].Body != "" || lines[2].Seq != 3 {
			t.Fatalf("lines %+v %v", lines, err)
		}
		if running, ok, _ := s.RunningMeeting(ctx, "!r:x"); !ok || running.Name != "weekly" {
			t.Errorf("running %+v %v", running, ok)
		}
		if ok, err := s.EndMeeting(ctx, "$start", "weekly sync", "@a:x", "", at.Add(time.Hour)); !ok || err != nil {
			t.Fatalf("end: %v %v", ok, err)
		}
		if ok, _ := s.EditMeetingLine(ctx, "$b", "too late"); ok {
			t.Error("a line of an ended meeting was edited")
		}
		if _, ok, _ := s.RunningMeeting(ctx, "!r:x"); ok {
			t.Error("an ended meeting still runs")
		}
		todo, _ := s.MeetingsToFinish(ctx)
		if len(todo) != 1 || todo[0].Name != "weekly sync" || todo[0].EndedAt.IsZero() {
			t.Errorf("to finish %+v", todo)
		}
		s.MeetingPublished(ctx, "$start")
		if todo, _ := s.MeetingsToFinish(ctx); len(todo) != 0 {
			t.Errorf("published, still to finish: %+v", todo)
		}
		if all, _ := s.Meetings(ctx, "", 5); len(all) != 1 || !all[0].Published {
			t.Errorf("meetings %+v", all)
		}
		if other, _ := s.Meetings(ctx, "!other:x", 5); len(other) != 0 {
			t.Errorf("another room's meetings %+v", other)
		}

		mail := store.OutgoingMail{MessageID: "<m1@ibbot>", Raw: []byte("Subject: x\r\n\r\nhi"), Rcpt: []string{"list@x"}, Rooms: []string{"!r:x"}, CreatedAt: at}
		if ok, err := s.QueueMail(ctx, mail); !ok || err != nil {
			t.Fatalf("queue: %v %v", ok, err)
		}
		if todo, _ := s.MailToSend(ctx, 5); len(todo) != 1 || todo[0].Rcpt[0] != "list@x" {
			t.Errorf("to send %+v", todo)
		}
		s.MailSent(ctx, "<m1@ibbot>", at, errors.New("421 try later"))
		s.MailSent(ctx, "<m1@ibbot>", at.Add(time.Minute), nil)
		if todo, _ := s.MailToSend(ctx, 5); len(todo) != 0 {
			t.Errorf("sent, still to send: %+v", todo)
		}
		if got, ok, _ := s.SentMail(ctx, "<m1@ibbot>"); !ok || got.SentAt.IsZero() || got.Rooms[0] != "!r:x" {
			t.Errorf("sent mail %+v %v", got, ok)
		}
	})
}
