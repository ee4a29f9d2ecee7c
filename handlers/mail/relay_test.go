package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"

	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/golden"
	"github.com/osbuild/ibbot/internal/roomscope"
	"github.com/osbuild/ibbot/internal/search"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/testenv"
)

const testList = "image-builder.lists.example.org"

type mailEnv struct {
	maxMailBytes int     // the watcher's mail.max_mail_bytes; 0: whole mails
	handle       Handler // what the watcher calls; nil: the relay
	watcher      *Watcher
	imap         *testenv.IMAPServer
	store        *store.DB
	rec          *testenv.Recorder
	relay        *Relay
	stop         func()
}

func newMailEnv(t *testing.T) *mailEnv {
	t.Helper()
	srv, err := testenv.StartMemIMAP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "mail.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := config.Defaults().Mail
	cfg.ListID, cfg.Rooms = []string{testList}, []string{"!room:x"}
	rec := &testenv.Recorder{}
	return &mailEnv{imap: srv, store: st, rec: rec, relay: &Relay{Store: st, Poster: rec, Config: cfg, Log: zerolog.Nop(), Lists: newLists(t, cfg, st)}}
}

// newLists is the room scope of cfg's lists, with the rooms' choices in st.
func newLists(t *testing.T, cfg config.Mail, st interface {
	roomscope.Store
	roomscope.Mover
}) *Lists {
	t.Helper()
	reg, err := roomscope.Open(context.Background(), st, bot.NewRoomNames(), nil)
	if err != nil {
		t.Fatal(err)
	}
	lists, err := roomscope.Add(context.Background(), reg, Source(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return lists
}

func (e *mailEnv) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &Watcher{
		Config: config.IMAP{Address: e.imap.Address, TLS: "none", Username: e.imap.Username,
			Password: config.NewSecret(e.imap.Password), Mailbox: "INBOX", PollInterval: 20 * time.Millisecond, NoopInterval: time.Second},
		Handle: e.relay.Handle, Store: e.store, Log: zerolog.Nop(), Metrics: e.relay.Metrics,
		MaxMailBytes: e.maxMailBytes,
	}
	if e.handle != nil {
		w.Handle = e.handle
	}
	e.watcher = w
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	e.stop = func() { cancel(); <-done }
	t.Cleanup(e.stop)
	// The watcher has started once its position is stored.
	waitUntil(t, "the watcher to start", func() bool {
		_, ok, _ := e.store.Get(context.Background(), w.key())
		return ok
	})
}

// waitUntil polls a condition with a deadline (the IMAP side gives no
// event to wait on).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *mailEnv) append(t *testing.T, names ...string) {
	t.Helper()
	var raws [][]byte
	for _, n := range names {
		raws = append(raws, fixture(t, n))
	}
	if err := e.imap.Append(raws...); err != nil {
		t.Fatal(err)
	}
}

func TestRelayThreadsAndDeduplicates(t *testing.T) {
	e := newMailEnv(t)
	e.append(t, "ibbot-two-list-ids.eml") // before the first start: history
	e.start(t)

	e.append(t, "ibbot-mm3-root.eml", "ibbot-mm2-reply-inline-footer.eml", "ibbot-mm3-reply-no-archived-at.eml",
		"ibbot-mm3-root.eml", "notmuch-in-reply-to-yes.eml", "notmuch-mlmmj-post-denied-notice.eml")
	waitUntil(t, "the thread", func() bool { return len(e.rec.All()) >= 3 })
	e.stop()
	e.append(t, "ibbot-html-only.eml")
	e.start(t)
	waitUntil(t, "mail sent while stopped", func() bool { return len(e.rec.All()) >= 4 })

	msgs := e.rec.All()
	if len(msgs) != 4 {
		t.Fatalf("messages %+v, want root, two replies, and the later mail", msgs)
	}
	root := msgs[0]
	if root.Key != "mail:root:!room:x:root-1@example.org" || !strings.Contains(root.Plain, "Blueprint customizations for RHEL 10 — Ana Silva") {
		t.Errorf("root = %+v", root)
	}
	for _, r := range msgs[1:3] {
		if r.Rel != "thread" || r.Target != root.Key {
			t.Errorf("reply %+v is not in the root's thread", r)
		}
	}
	if !strings.HasPrefix(msgs[2].Plain, "Ana Silva: Thanks, that works.") {
		t.Errorf("the DMARC-rewritten reply shows %q, want the real author", msgs[2].Plain)
	}
	if !strings.Contains(msgs[3].Plain, "Cheap cloud credits") {
		t.Errorf("mail appended while stopped: %+v", msgs[3])
	}
	threads, _ := e.store.MailThreads(context.Background(), "blueprint", []string{testList}, 10)
	if len(threads) != 1 || threads[0].Replies != 2 {
		t.Errorf("!ml search would show %+v, want one thread with 2 replies", threads)
	}
}

func TestRelayRecoversFromAUIDValidityChange(t *testing.T) {
	e := newMailEnv(t)
	e.start(t)
	e.append(t, "ibbot-mm3-root.eml", "ibbot-mm2-reply-inline-footer.eml")
	waitUntil(t, "the first two mails", func() bool { return len(e.rec.All()) >= 2 })
	e.stop()
	// The server rebuilt the mailbox: same mails, new UIDs, one new mail.
	if err := e.imap.ResetUIDValidity([][]byte{fixture(t, "ibbot-mm3-root.eml"), fixture(t, "ibbot-mm2-reply-inline-footer.eml")}); err != nil {
		t.Fatal(err)
	}
	e.append(t, "ibbot-mm3-reply-no-archived-at.eml")
	e.start(t)
	waitUntil(t, "the new mail", func() bool { return len(e.rec.All()) >= 3 })
	e.stop()
	if n := len(e.rec.All()); n != 3 {
		t.Errorf("%d messages after the UIDVALIDITY change, want 3 (nothing reposted): %+v", n, e.rec.All())
	}
}

// TestRenderFixturesGolden shows how each fixture would be announced.
func TestRenderFixturesGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/mail/*.eml")
	for _, f := range files {
		m, err := Parse(fixture(t, filepath.Base(f)), DefaultLimits)
		if err != nil {
			continue
		}
		root, reply := RenderThread(m, m.Excerpt(400), 0), RenderReply(m, 400)
		golden.Check(t, "render-"+strings.TrimSuffix(filepath.Base(f), ".eml")+".golden",
			"as a thread:\n"+root.Plain+"\n\nhtml:\n"+root.HTML+"\n\nas a reply:\n"+reply.Plain+"\n")
	}
}

func TestCrossPostIsRelayedOnce(t *testing.T) {
	e := newMailEnv(t)
	e.relay.Config.ListID = []string{"pkg-emacsen-addons.alioth-lists.debian.net", "haskell-mode.tracker.debian.org", testList}
	e.relay.Lists = newLists(t, e.relay.Config, e.store)
	ctx := context.Background()
	for _, f := range []string{"notmuch-crosspost-same-msgid-list-a.eml", "notmuch-crosspost-same-msgid-list-b.eml"} {
		if err := e.relay.Handle(ctx, fixture(t, f)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.rec.All()); n != 1 {
		t.Errorf("a cross-post was relayed %d times, want once: %+v", n, e.rec.All())
	}
}

func TestReplyCountMode(t *testing.T) {
	e := newMailEnv(t)
	e.relay.Config.Replies = "count"
	ctx := context.Background()
	for _, f := range []string{"ibbot-mm3-root.eml", "ibbot-mm2-reply-inline-footer.eml", "ibbot-mm3-reply-no-archived-at.eml"} {
		if err := e.relay.Handle(ctx, fixture(t, f)); err != nil {
			t.Fatal(err)
		}
	}
	msgs := e.rec.All()
	if len(msgs) != 3 || msgs[2].Rel != "edit" || msgs[2].Target != msgs[0].Key || !strings.Contains(msgs[2].Plain, "· 2 replies") {
		t.Errorf("count mode: %+v", msgs)
	}
}

// TestReplyCountEditKeepsTheRoot: the count edit replaces the root's
// message, so it must still show the root's excerpt and attachments.
func TestReplyCountEditKeepsTheRoot(t *testing.T) {
	e := newMailEnv(t)
	e.relay.Config.Replies = config.RepliesCount
	e.relay.Config.ListID = []string{"list1.mm3test.fedoraproject.org"}
	e.relay.Lists = newLists(t, e.relay.Config, e.store)
	ctx := context.Background()
	if err := e.relay.Handle(ctx, fixture(t, "hyperkitty-mm3-archived-at-attachment.eml")); err != nil {
		t.Fatal(err)
	}
	reply := "From: Ana <ana@example.org>\r\nTo: list1@mm3test.fedoraproject.org\r\nSubject: Re: x\r\n" +
		"Message-ID: <reply-1@example.org>\r\nIn-Reply-To: <CAHmoxtXXb3un1C=ZvYNtz-eYghm-GH925gDVHyjhvL2YEsZ-Yw@mail.gmail.com>\r\n" +
		"List-Id: <list1.mm3test.fedoraproject.org>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\n\r\nThanks!\r\n"
	if err := e.relay.Handle(ctx, []byte(reply)); err != nil {
		t.Fatal(err)
	}
	msgs := e.rec.All()
	if len(msgs) != 2 || msgs[1].Rel != "edit" {
		t.Fatalf("want the root and one count edit: %+v", msgs)
	}
	root, edit := msgs[0].Plain, msgs[1].Plain
	if want := strings.Replace(root, "\n", " · 1 reply\n", 1); edit != want {
		t.Errorf("the count edit lost part of the root:\nroot: %q\nedit: %q\nwant: %q", root, edit, want)
	}
	if !strings.Contains(edit, "todo-déjeuner.txt") {
		t.Errorf("attachment missing from the edit: %q", edit)
	}
}

func TestThreadsCommand(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	for _, f := range []string{"ibbot-mm3-root.eml", "ibbot-mm2-reply-inline-footer.eml", "ibbot-html-only.eml"} {
		e.relay.Handle(ctx, fixture(t, f))
	}
	subs := &ListSubscriber{Lists: e.relay.Lists, Allowed: e.relay.Config.ChatLists(), Now: time.Now}
	cmd := Threads(e.store, time.Now, subs, nil, nil)
	runIn := func(room id.RoomID, direct bool, args ...string) string {
		rep, err := cmd.Run(ctx, bot.Request{Command: "ml", Args: args, Prefix: "!", RoomID: room, Direct: direct, Sender: "@admin:x"})
		if err != nil {
			t.Fatal(err)
		}
		return rep.Plain
	}
	run := func(args ...string) string { return runIn("!room:x", false, args...) }
	golden.Check(t, "ml.golden", run()+"\n\n"+run("search", "rhel", "blueprint")+"\n\n"+run("search", "kernel")+"\n")

	// Scope: a room that follows no list hears of none; a direct chat hears
	// of the config's; a room muting the config's list hears of none.
	if got := runIn("!other:x", false, "search", "rhel"); !strings.Contains(got, "follows no mailing list") {
		t.Errorf("!ml search in a room without lists: %q", got)
	}
	if got := runIn("!dm:x", true); got != run() {
		t.Errorf("!ml in a direct chat: %q, want what the config's room gets", got)
	}
	runIn("!room:x", false, "mute", testList)
	if got := run(); !strings.Contains(got, "follows no mailing list") {
		t.Errorf("!ml in a room that muted its list: %q", got)
	}
}

// TestListScope: rooms subscribe only to lists the operator allows;
// unsubscribing takes back a room's own list, never the config's, which
// only !ml mute silences; the choices survive a reload.
func TestListScope(t *testing.T) {
	cfg := config.Defaults().Mail
	cfg.ListID, cfg.Rooms = []string{testList}, []string{"!room:x"}
	cfg.AllowedLists = []string{testList, "devel.lists.example.org"}
	choices := &testenv.Choices{}
	routes := newLists(t, cfg, choices)
	cmd := Threads(nil, time.Now, &ListSubscriber{Lists: routes, Allowed: cfg.ChatLists(), Now: time.Now}, nil, nil)
	say := func(room id.RoomID, line string) string {
		rep, err := cmd.Run(context.Background(), bot.Request{Command: "ml", Args: strings.Fields(line), Prefix: "!", RoomID: room, Sender: "@admin:x"})
		if err != nil {
			t.Fatal(err)
		}
		return rep.Plain
	}
	for _, c := range []struct{ room, line, want string }{
		{"!other:x", "subscribe secret.lists.example.org", "not one of them"},
		{"!other:x", "subscribe devel.lists.example.org", "subscribed this room"},
		{"!room:x", "subscribe devel.lists.example.org", "subscribed this room"},
		{"!room:x", "unsubscribe " + testList, "comes to this room from the operator's config"},
		{"!room:x", "unsubscribe devel.lists.example.org", "unsubscribed this room"},
		{"!room:x", "mute " + testList, "muted the mailing list"},
		{"!other:x", "mute devel.lists.example.org", "Nothing to mute"},
	} {
		if got := say(id.RoomID(c.room), c.line); !strings.Contains(got, c.want) {
			t.Errorf("%s in %s: %q, want %q in it", c.line, c.room, got, c.want)
		}
	}
	reloaded := newLists(t, cfg, choices)
	for _, r := range []*Lists{routes, reloaded} {
		if got := roomsFor(r, []string{testList}); len(got) != 0 {
			t.Errorf("the muted config list still goes to %v", got)
		}
		if got := roomsFor(r, []string{"devel.lists.example.org"}); !slices.Equal(got, []string{"!other:x"}) {
			t.Errorf("the devel list goes to %v, want !other:x alone", got)
		}
		if listOf(r, []string{"secret.lists.example.org"}) != "" {
			t.Error("a list no room may have is accepted")
		}
	}
}

// flakyPoster fails the first posts into a thread (or edits), as a full
// disk or a database error would, then records like the bot's queue.
type flakyPoster struct {
	testenv.Recorder
	failures int
}

func (p *flakyPoster) fail() error {
	if p.failures > 0 {
		p.failures--
		return errors.New("database is locked")
	}
	return nil
}

func (p *flakyPoster) PostInThread(ctx context.Context, key, room, root string, rep bot.Reply) error {
	if err := p.fail(); err != nil {
		return err
	}
	return p.Recorder.PostInThread(ctx, key, room, root, rep)
}

func (p *flakyPoster) Edit(ctx context.Context, key, room, target string, rep bot.Reply) error {
	if err := p.fail(); err != nil {
		return err
	}
	return p.Recorder.Edit(ctx, key, room, target, rep)
}

// TestReplyIsPostedWhenRetriedAfterAFailure: when posting a reply fails
// (or the bot dies right then), the watcher retries the same mail; it must
// then be posted, once, and counted once, not mistaken for a duplicate.
func TestReplyIsPostedWhenRetriedAfterAFailure(t *testing.T) {
	for _, mode := range []config.Replies{config.RepliesThread, config.RepliesCount} {
		t.Run(string(mode), func(t *testing.T) {
			e := newMailEnv(t)
			p := &flakyPoster{failures: 1}
			e.relay.Poster, e.relay.Config.Replies = p, mode
			ctx := context.Background()
			if err := e.relay.Handle(ctx, fixture(t, "ibbot-mm3-root.eml")); err != nil {
				t.Fatal(err)
			}
			reply := fixture(t, "ibbot-mm2-reply-inline-footer.eml")
			if err := e.relay.Handle(ctx, reply); err == nil {
				t.Fatal("a failed post was not reported, so the watcher would move past the mail")
			}
			if err := e.relay.Handle(ctx, reply); err != nil { // the watcher's retry
				t.Fatal(err)
			}
			msgs := p.All()
			if len(msgs) != 2 || msgs[1].Rel == "" {
				t.Fatalf("posted %+v, want the root and the reply", msgs)
			}
			if mode == "count" && !strings.Contains(msgs[1].Plain, "· 1 reply") {
				t.Errorf("count edit says %q, want 1 reply", msgs[1].Plain)
			}
			if threads, _ := e.store.MailThreads(ctx, "", []string{testList}, 10); len(threads) != 1 || threads[0].Replies != 1 {
				t.Errorf("threads %+v, want one with 1 reply", threads)
			}
		})
	}
}

// TestSpamRuleReadsOnlyHeaders: the spam header is read from the header
// block (CRLF or LF), so a body line that looks like it drops nothing, and
// an archive link from the headers is kept only if it is http(s).
func TestSpamRuleReadsOnlyHeaders(t *testing.T) {
	e := newMailEnv(t)
	e.relay.Config.SpamHeader = "X-Spam-Flag"
	ctx := context.Background()
	// IMAP servers deliver mail with CRLF line ends.
	root := bytes.ReplaceAll(bytes.ReplaceAll(fixture(t, "ibbot-mm3-root.eml"), []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	head, body, _ := bytes.Cut(root, []byte("\r\n\r\n"))
	innocent := append(append(append([]byte{}, head...), []byte("\r\n\r\nX-Spam-Flag: YES\r\n")...), body...)
	if err := e.relay.Handle(ctx, innocent); err != nil {
		t.Fatal(err)
	}
	if n := len(e.rec.All()); n != 1 {
		t.Fatalf("a body line 'X-Spam-Flag: YES' dropped the mail (%d posted)", n)
	}
	lf := bytes.ReplaceAll(fixture(t, "ibbot-windows-1252.eml"), []byte("\r\n"), []byte("\n"))
	spam := append([]byte("X-Spam-Flag: YES\n"), lf...)
	if err := e.relay.Handle(ctx, spam); err != nil {
		t.Fatal(err)
	}
	if n := len(e.rec.All()); n != 1 {
		t.Errorf("a spam header in an LF mail was missed (%d posted)", n)
	}
}

func TestArchiveLinkMustBeWeb(t *testing.T) {
	root := fixture(t, "ibbot-mm3-root.eml")
	for header, want := range map[string]string{
		"Archived-At: <javascript:alert(document.cookie)>\r\n": "",
		"Archived-At: <data:text/html,x>\r\n":                  "",
		"Archived-At: <https://lists.example.org/m/1/>\r\n":    "https://lists.example.org/m/1/",
	} {
		raw := append([]byte(header), bytes.Replace(root, []byte("Archived-At:"), []byte("X-Old-Archived-At:"), 1)...)
		m, err := Parse(raw, DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		if m.ArchiveURL != want {
			t.Errorf("%q: archive link %q, want %q", header, m.ArchiveURL, want)
		}
	}
}

// TestRelayCountsOutcomes: /metrics tells the operator what became of each
// mail.
func TestRelayCountsOutcomes(t *testing.T) {
	e := newMailEnv(t)
	e.relay.Metrics = NewMetrics(prometheus.NewRegistry())
	e.relay.Config.SpamHeader = "X-Spam-Flag"
	ctx := context.Background()
	spam := append([]byte("X-Spam-Flag: YES\r\n"), fixture(t, "ibbot-html-only.eml")...)
	bounce := bytes.Replace(fixture(t, "ibbot-windows-1252.eml"), []byte("\nFrom: "), []byte("\nX-Was-From: "), 1)
	bounce = append([]byte("From: MAILER-DAEMON@lists.example.org\r\n"), bounce...)
	for _, raw := range [][]byte{
		fixture(t, "ibbot-mm3-root.eml"), fixture(t, "ibbot-mm2-reply-inline-footer.eml"),
		fixture(t, "ibbot-mm3-root.eml"),                      // delivered twice
		fixture(t, "notmuch-crosspost-same-msgid-list-a.eml"), // another list
		spam, bounce,
		[]byte("\x00\x01 not a mail"),
	} {
		if err := e.relay.Handle(ctx, raw); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]float64{outcomeThread: 1, outcomeReply: 1, outcomeDuplicate: 1, outcomeOtherList: 1,
		outcomeSpam: 1, outcomeNotAPost: 1, outcomeUnreadable: 1}
	for outcome, n := range want {
		if got := testutil.ToFloat64(e.relay.Metrics.Mails.WithLabelValues(outcome)); got != n {
			t.Errorf("ibbot_mail_messages_total{outcome=%q} = %v, want %v", outcome, got, n)
		}
	}
}

// TestWatcherReportsItsConnection: /metrics shows whether the IMAP
// connection is up and when the mailbox was last read.
func TestWatcherReportsItsConnection(t *testing.T) {
	e := newMailEnv(t)
	m := NewMetrics(prometheus.NewRegistry())
	e.relay.Metrics = m
	before := float64(time.Now().Unix())
	e.start(t)
	waitUntil(t, "the watcher to report", func() bool {
		return testutil.ToFloat64(m.Connected) == 1 && testutil.ToFloat64(m.LastCheck) >= before
	})
	e.stop()
	if up := testutil.ToFloat64(m.Connected); up != 0 {
		t.Errorf("ibbot_mail_connected = %v after the watcher stopped, want 0", up)
	}
}

// TestStagesAreTimed: /metrics shows how long a mail spent in each stage,
// from the server's EXISTS to the bot's queue.
func TestStagesAreTimed(t *testing.T) {
	e := newMailEnv(t)
	reg := prometheus.NewRegistry()
	e.relay.Metrics = NewMetrics(reg)
	e.start(t)
	waitUntil(t, "the watcher to look", func() bool { return testutil.ToFloat64(e.relay.Metrics.LastCheck) > 0 })
	if err := e.imap.Append(listPost(1, "Hello.")); err != nil {
		t.Fatal(err)
	}
	samples := func(stage string) uint64 {
		h := &dto.Metric{}
		e.relay.Metrics.Stages.WithLabelValues(stage).(prometheus.Histogram).Write(h)
		return h.GetHistogram().GetSampleCount()
	}
	// The last stage ends when the mail is recorded, after its post.
	waitUntil(t, "the mail to be queued", func() bool { return samples(stageQueued) > 0 })
	e.stop()
	for _, stage := range []string{stageListed, stageFetched, stageParsed, stageQueued} {
		if n := samples(stage); n != 1 {
			t.Errorf("stage %s timed %d times, want once", stage, n)
		}
	}
}

func listPost(i int, body string) []byte {
	return []byte(fmt.Sprintf("From: Ana Silva <ana@example.com>\r\nMessage-ID: <post-%d@example.com>\r\n"+
		"Subject: [image-builder] post %d\r\nList-Id: <%s>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", i, i, testList, body))
}

// TestBacklogIsRelayedInOrderInBatches: a backlog larger than one FETCH
// batch (after an outage) is relayed whole, once, in mailbox order.
func TestBacklogIsRelayedInOrderInBatches(t *testing.T) {
	e := newMailEnv(t)
	e.start(t)
	const n = 3*fetchBatch + 5
	var raws [][]byte
	for i := range n {
		raws = append(raws, listPost(i, "Body."))
	}
	if err := e.imap.Append(raws...); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the backlog", func() bool { return len(e.rec.All()) >= n })
	e.stop()
	msgs := e.rec.All()
	if len(msgs) != n {
		t.Fatalf("%d messages, want %d", len(msgs), n)
	}
	for i, m := range msgs {
		if !strings.HasPrefix(m.Plain, fmt.Sprintf("✉ post %d — ", i)) {
			t.Fatalf("message %d is %q: out of order", i, m.Plain)
		}
	}
}

// TestHugeMailIsReadFromItsStart: no more than mail.max_mail_bytes of a
// mail is downloaded; the mail is still announced from what was read.
func TestHugeMailIsReadFromItsStart(t *testing.T) {
	e := newMailEnv(t)
	e.maxMailBytes = 2000
	var mu sync.Mutex
	var downloaded []int
	e.handle = func(ctx context.Context, raw []byte) error {
		mu.Lock()
		downloaded = append(downloaded, len(raw))
		mu.Unlock()
		return e.relay.Handle(ctx, raw)
	}
	e.start(t)
	huge := listPost(1, "The first line says what it is about.\r\n"+strings.Repeat("x", 1<<20))
	if err := e.imap.Append(huge, listPost(2, "Small.")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "both mails", func() bool { return len(e.rec.All()) >= 2 })
	msgs := e.rec.All()
	if !strings.HasPrefix(msgs[0].Plain, "✉ post 1 — Ana Silva") || !strings.Contains(msgs[0].Plain, "The first line says") {
		t.Errorf("the huge mail was announced as %q", msgs[0].Plain)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(downloaded) != 2 || downloaded[0] != 2000 {
		t.Errorf("downloaded %v bytes, want the huge mail cut at 2000", downloaded)
	}
}

// TestWatcherReportsItsHealth: !status learns that the watcher reads the
// mailbox, and why it cannot when the server refuses the password.
func TestWatcherReportsItsHealth(t *testing.T) {
	e := newMailEnv(t)
	e.start(t)
	waitUntil(t, "a healthy report", func() bool { return e.watcher.Health().OK })
	if h := e.watcher.Health(); h.Part != "mail" || h.Detail != "watching INBOX on "+e.imap.Address || h.Last.IsZero() {
		t.Errorf("healthy report %+v", h)
	}
	e.stop()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	refused := &Watcher{
		Config: config.IMAP{Address: e.imap.Address, TLS: "none", Username: e.imap.Username,
			Password: config.NewSecret("wrong"), Mailbox: "INBOX", PollInterval: time.Second, NoopInterval: time.Second},
		Handle: e.relay.Handle, Store: e.store, Log: zerolog.Nop(),
	}
	done := make(chan struct{})
	go func() { refused.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitUntil(t, "the refusal", func() bool { return strings.Contains(refused.Health().Detail, "refused") })
	if h := refused.Health(); h.OK || !h.Last.IsZero() {
		t.Errorf("refused report %+v", h)
	}
}

// TestMailThatPanicsIsSkipped: a mail that crashes the relay (a bug) is
// skipped, and the mails after it are still relayed.
func TestMailThatPanicsIsSkipped(t *testing.T) {
	e := newMailEnv(t)
	e.handle = func(ctx context.Context, raw []byte) error {
		if bytes.Contains(raw, []byte("post-1@")) {
			panic("a bug")
		}
		return e.relay.Handle(ctx, raw)
	}
	e.start(t)
	if err := e.imap.Append(listPost(1, "Crashes."), listPost(2, "Fine.")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the mail after the crash", func() bool { return len(e.rec.All()) >= 1 })
	if msgs := e.rec.All(); len(msgs) != 1 || !strings.HasPrefix(msgs[0].Plain, "✉ post 2 — ") {
		t.Errorf("relayed %+v, want post 2 only", msgs)
	}
}

// TestTokenErrorsNeverShowTokens: what the log and !status get of an OAuth
// failure names the problem, never a token.
func TestTokenErrorsNeverShowTokens(t *testing.T) {
	p := testenv.NewOAuthProvider("u")
	defer p.Close()
	p.RevokeRefreshTokens()
	st, _ := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	defer st.Close()
	tk, err := newTokens(context.Background(), config.OAuth2{TokenURL: p.TokenURL(), ClientID: "c",
		ClientSecret: config.NewSecret("client-secret-xyz"), RefreshToken: config.NewSecret("refresh-secret-xyz")}, st, "u@x", zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	_, err = tk.token(context.Background())
	if err == nil || !errors.Is(err, errTokenRefused) {
		t.Fatalf("a revoked refresh token: %v", err)
	}
	for _, secret := range []string{"refresh-secret-xyz", "client-secret-xyz"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows a secret: %v", err)
		}
	}
}

func TestListIDsAsPeoplePasteThem(t *testing.T) {
	for in, want := range map[string]string{
		"image-builder.lists.example.org":                           "image-builder.lists.example.org",
		"<Image-Builder.lists.example.org>":                         "image-builder.lists.example.org",
		`Image Builder list <image-builder.lists.fedorahosted.org>`: "image-builder.lists.fedorahosted.org",
	} {
		if got := normalizeListID(in); got != want || !validListID(got) {
			t.Errorf("%q read as %q (valid %v), want %q", in, got, validListID(got), want)
		}
	}
	for _, bad := range []string{"nolist", ".a.b", "a..b", "a.b.", "a b.c", "<>", "évian.example.org"} {
		if validListID(normalizeListID(bad)) {
			t.Errorf("%q taken for a List-Id", bad)
		}
	}
}

// TestMLAnswersGolden renders !ml subscribe, unsubscribe and mute, and
// that the routes follow: a list of the room's own, a config list muted
// there.
func TestMLAnswersGolden(t *testing.T) {
	cfg := config.Mail{ListID: []string{"image-builder.lists.example.org"}, Rooms: []string{"!main:x"},
		AllowedLists: []string{"image-builder.lists.example.org", "devel.lists.example.org"}}
	routes := newLists(t, cfg, &testenv.Choices{})
	subs := &ListSubscriber{Lists: routes, Allowed: cfg.ChatLists(), Now: time.Now}
	cmd := Threads(nil, time.Now, subs, nil, nil)
	run := func(room, line string) bot.Reply {
		t.Helper()
		rep, err := cmd.Run(context.Background(), bot.Request{Command: "ml", Args: strings.Fields(line), Prefix: "!", Sender: "@alice:x", RoomID: id.RoomID(room)})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	for _, c := range []struct{ file, room, line string }{
		{"ml-subscribe.golden", "!second:x", "subscribe <devel.lists.example.org>"},
		{"ml-unsubscribe-config.golden", "!main:x", "unsubscribe image-builder.lists.example.org"},
		{"ml-mute.golden", "!main:x", "mute image-builder.lists.example.org"},
		{"ml-subscribe-bad.golden", "!second:x", "subscribe image-bulder..lists"},
		{"ml-subscribe-not-allowed.golden", "!second:x", "subscribe secret.lists.example.org"},
	} {
		rep := run(c.room, c.line)
		golden.Check(t, c.file, "plain:\n"+rep.Plain+"\n\nhtml:\n"+rep.HTML+"\n")
	}
	if got := roomsFor(routes, []string{"devel.lists.example.org"}); !slices.Equal(got, []string{"!second:x"}) {
		t.Errorf("devel list goes to %v", got)
	}
	if got := roomsFor(routes, []string{"image-builder.lists.example.org"}); len(got) != 0 {
		t.Errorf("the muted config list still goes to %v", got)
	}
	if listOf(routes, []string{"devel.lists.example.org"}) == "" || listOf(routes, []string{"other.lists.example.org"}) != "" {
		t.Error("Accepts disagrees with the subscriptions")
	}
}

// TestMailIsFoundByItsText: a relayed thread is found by a word of a
// reply's body (not in any subject), in a room that follows its list,
// and never in a room that does not.
func TestMailIsFoundByItsText(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	index, err := search.New()
	if err != nil {
		t.Fatal(err)
	}
	defer index.Close()
	follower := &search.Follower{Store: e.store, Index: index, Interval: time.Minute, Log: zerolog.Nop(), Now: time.Now}
	e.relay.Search, e.relay.Wrote = e.store, follower.Wake
	for _, f := range []string{"ibbot-mm3-root.eml", "ibbot-mm2-reply-inline-footer.eml"} {
		if err := e.relay.Handle(ctx, fixture(t, f)); err != nil {
			t.Fatal(err)
		}
	}
	// The same mail again adds nothing to its thread.
	e.relay.Handle(ctx, fixture(t, "ibbot-mm2-reply-inline-footer.eml"))
	if _, err := follower.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	subs := &ListSubscriber{Lists: e.relay.Lists, Allowed: e.relay.Config.ChatLists(), Now: time.Now}
	cmd := Threads(e.store, time.Now, subs, index, nil)
	ask := func(room id.RoomID, words string) string {
		rep, err := cmd.Run(ctx, bot.Request{Command: "ml", Args: append([]string{"search"}, strings.Fields(words)...), Prefix: "!", RoomID: room})
		if err != nil {
			t.Fatal(err)
		}
		return rep.Plain
	}
	got := ask("!room:x", "hostname")
	if !strings.HasPrefix(got, "list · ") || !strings.Contains(got, "hostname") {
		t.Errorf("a word of a reply's body was not found:\n%s", got)
	}
	if n := strings.Count(got, "\nlist · "); n != 0 {
		t.Errorf("the thread was found as %d documents:\n%s", n+1, got)
	}
	if got := ask("!other:x", "hostname"); !strings.Contains(got, "follows no mailing list") {
		t.Errorf("a room without the list found: %q", got)
	}
	doc, _, _ := e.store.SearchDoc(ctx, "mail:"+mustParse(t, "ibbot-mm3-root.eml").MessageID)
	if strings.Count(doc.Body, "That is [customizations] hostname.") != 1 {
		t.Errorf("the thread's text: %q", doc.Body)
	}
	// What the reply quotes is another mail's words (in its own document
	// when relayed): never counted again or shown as the reply's.
	if strings.Contains(doc.Body, "Can I set the kernel command line") || strings.Contains(doc.Body, "wrote:") {
		t.Errorf("the thread's text holds the reply's quotes: %q", doc.Body)
	}
}

func mustParse(t *testing.T, name string) *Mail {
	t.Helper()
	m, err := Parse(fixture(t, name), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestThreadsRelayedBeforeTheSearchAreBackfilled: threads relayed with no
// search are given to it once, from what their notices showed.
func TestThreadsRelayedBeforeTheSearchAreBackfilled(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	for _, f := range []string{"ibbot-mm3-root.eml", "ibbot-mm2-reply-inline-footer.eml", "ibbot-html-only.eml"} {
		if err := e.relay.Handle(ctx, fixture(t, f)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := Backfill(ctx, e.store)
	if err != nil || n != 2 {
		t.Fatalf("backfilled %d threads (%v), want the 2 roots", n, err)
	}
	if again, _ := Backfill(ctx, e.store); again != 0 {
		t.Errorf("a second backfill added %d", again)
	}
	root := mustParse(t, "ibbot-mm3-root.eml")
	doc, ok, _ := e.store.SearchDoc(ctx, "mail:"+root.MessageID)
	if !ok || doc.Title != root.Subject || doc.Scope != testList || doc.Body == "" {
		t.Errorf("the backfilled thread: %+v", doc)
	}
}
