package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/store"
)

// scriptedHomeserver answers sends with a scripted sequence of errors,
// then success, and records every transaction id it was given.
type scriptedHomeserver struct {
	mu       sync.Mutex
	script   []error
	txns     []string
	posted   map[string]bool
	contents map[string]json.RawMessage // by transaction id, when set
	refuse   map[string]error           // by transaction id: every attempt fails so
}

func (h *scriptedHomeserver) SendMessageEvent(_ context.Context, _ id.RoomID, _ event.Type, content any, extra ...mautrix.ReqSendEvent) (*mautrix.RespSendEvent, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	txn := extra[0].TransactionID
	h.txns = append(h.txns, txn)
	if err := h.refuse[txn]; err != nil {
		return nil, err
	}
	if len(h.script) > 0 {
		err := h.script[0]
		h.script = h.script[1:]
		return nil, err
	}
	h.posted[txn] = true
	if h.contents != nil {
		h.contents[txn], _ = json.Marshal(content)
	}
	return &mautrix.RespSendEvent{EventID: id.EventID("$" + txn)}, nil
}

// Messages lists what was posted, with the transaction ids the homeserver
// shows the sending device.
func (h *scriptedHomeserver) Messages(context.Context, id.RoomID, string, string, mautrix.Direction, *mautrix.FilterPart, int) (*mautrix.RespMessages, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	resp := &mautrix.RespMessages{}
	for txn := range h.posted {
		resp.Chunk = append(resp.Chunk, &event.Event{ID: id.EventID("$" + txn), Unsigned: event.Unsigned{TransactionID: txn}})
	}
	return resp, nil
}

func httpErr(status int, body map[string]any) error {
	resp := &http.Response{StatusCode: status, Header: http.Header{}}
	var respErr *mautrix.RespError
	if body != nil {
		respErr = &mautrix.RespError{ErrCode: body["errcode"].(string), StatusCode: status, ExtraData: body}
	}
	return mautrix.HTTPError{Response: resp, RespError: respErr}
}

func newTestSender(t *testing.T, hs eventSender) (*sender, *store.DB, *Metrics) {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := NewMetrics(prometheus.NewRegistry())
	s := newSender(hs, st, m, zerolog.Nop(), time.Now)
	s.backoff = backoff.Policy{Min: time.Millisecond, Max: 5 * time.Millisecond}
	s.rooms.trouble = backoff.Policy{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}
	return s, st, m
}

// runUntil runs the sender until done holds (or 10 s pass), then stops it.
func runUntil(t *testing.T, s *sender, done func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { s.run(ctx, make(chan struct{})); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	for deadline := time.Now().Add(10 * time.Second); !done(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the sender did not get there within 10s")
		}
	}
}

func drain(t *testing.T, s *sender) {
	t.Helper()
	closed := make(chan struct{})
	close(closed)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.run(ctx, closed)
}

func TestSenderRetriesUntilDelivered(t *testing.T) {
	hs := &scriptedHomeserver{posted: map[string]bool{}, script: []error{
		httpErr(429, map[string]any{"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": float64(20)}),
		httpErr(502, nil),
		errors.New("connection reset by peer"),
		httpErr(503, map[string]any{"errcode": "M_UNKNOWN"}),
	}}
	s, st, m := newTestSender(t, hs)
	ctx := context.Background()
	s.enqueue(ctx, store.Outgoing{Key: "k1", RoomID: "!r:x", EventType: "m.room.message", Content: []byte(`{}`)})
	s.enqueue(ctx, store.Outgoing{Key: "k1", RoomID: "!r:x", EventType: "m.room.message", Content: []byte(`{}`)}) // duplicate
	// Three transient failures in a row set the room aside for a moment;
	// it is tried again after.
	runUntil(t, s, func() bool {
		n, _ := st.PendingCount(ctx)
		return n == 0
	})

	if len(hs.posted) != 1 {
		t.Fatalf("posted %d messages, want 1", len(hs.posted))
	}
	for _, txn := range hs.txns {
		if txn != TxnID("k1") {
			t.Fatalf("attempts used transaction ids %v; every retry must reuse %s", hs.txns, TxnID("k1"))
		}
	}
	if n, _ := st.PendingCount(ctx); n != 0 {
		t.Errorf("%d messages still pending", n)
	}
	if got := testutil.ToFloat64(m.RateLimitWaits); got != 1 {
		t.Errorf("rate-limit waits = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.SendErrors.WithLabelValues("transient")); got != 3 {
		t.Errorf("transient errors = %v, want 3", got)
	}
	if evt, _ := st.EventID(ctx, "k1"); evt != id.EventID("$"+TxnID("k1")).String() {
		t.Errorf("event id not recorded: %q", evt)
	}
}

func TestSenderGivesUpOnlyOnPermanentErrors(t *testing.T) {
	hs := &scriptedHomeserver{posted: map[string]bool{}, script: []error{
		httpErr(413, map[string]any{"errcode": "M_TOO_LARGE"}),
	}}
	s, st, _ := newTestSender(t, hs)
	ctx := context.Background()
	s.enqueue(ctx, store.Outgoing{Key: "too-large", RoomID: "!r:x", EventType: "m.room.message", Content: []byte(`{}`)})
	s.enqueue(ctx, store.Outgoing{Key: "next", RoomID: "!r:x", EventType: "m.room.message", Content: []byte(`{}`)})
	drain(t, s)
	if !hs.posted[TxnID("next")] || hs.posted[TxnID("too-large")] {
		t.Errorf("posted %v: want only the second message", hs.posted)
	}
	if n, _ := st.PendingCount(ctx); n != 0 {
		t.Errorf("%d still pending; the refused one should be marked failed", n)
	}
	failed, _ := st.Failed(ctx, 5)
	if len(failed) != 1 || failed[0].Key != "too-large" || !strings.Contains(failed[0].LastError, "M_TOO_LARGE") {
		t.Errorf("the undeliverable message is not listed with its reason: %+v", failed)
	}
}

// roomsHomeserver refuses the bot in some rooms (403, as when it is not
// in them) and posts everywhere else.
type roomsHomeserver struct {
	mu      sync.Mutex
	refused map[id.RoomID]bool
	posted  []string // room: txn, in order
	joins   int
}

func (h *roomsHomeserver) SendMessageEvent(_ context.Context, room id.RoomID, _ event.Type, _ any, extra ...mautrix.ReqSendEvent) (*mautrix.RespSendEvent, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.refused[room] {
		return nil, httpErr(403, map[string]any{"errcode": "M_FORBIDDEN", "error": "not in room"})
	}
	h.posted = append(h.posted, room.String()+" "+extra[0].TransactionID)
	return &mautrix.RespSendEvent{EventID: id.EventID("$" + extra[0].TransactionID)}, nil
}

func (h *roomsHomeserver) Messages(context.Context, id.RoomID, string, string, mautrix.Direction, *mautrix.FilterPart, int) (*mautrix.RespMessages, error) {
	return &mautrix.RespMessages{}, nil
}

func (h *roomsHomeserver) set(room id.RoomID, refused bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refused[room] = refused
}

func (h *roomsHomeserver) sent() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.posted)
}

// TestOneBadRoomBlocksNoOther: a room the bot cannot post to (not in it,
// cannot join; or an alias that does not resolve) keeps its messages
// queued, is reported in !status and /metrics, and never holds up another
// room; once it works again its messages go out, in order.
func TestOneBadRoomBlocksNoOther(t *testing.T) {
	hs := &roomsHomeserver{refused: map[id.RoomID]bool{"!bad:x": true}}
	s, st, m := newTestSender(t, hs)
	// Retries of a room at least 50ms apart (half of 100ms, with jitter).
	s.rooms.backoff = backoff.Policy{Min: 100 * time.Millisecond, Max: 100 * time.Millisecond}
	began := time.Now()
	s.join = func(context.Context, string) error {
		hs.mu.Lock()
		hs.joins++
		hs.mu.Unlock()
		return errors.New("M_FORBIDDEN: not invited")
	}
	s.resolve = func(_ context.Context, room string) (id.RoomID, error) {
		if room == "#gone:x" {
			return "", errors.New("M_NOT_FOUND: Room alias #gone:x not found")
		}
		return id.RoomID(room), nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i, room := range []string{"!bad:x", "#gone:x", "!good:x", "!bad:x", "!good:x", "#gone:x", "!good:x"} {
		s.enqueue(ctx, store.Outgoing{Key: fmt.Sprintf("m%d", i), RoomID: room, EventType: "m.room.message", Content: []byte(`{}`)})
	}
	done := make(chan struct{})
	go func() { s.run(ctx, nil); close(done) }()
	waitFor(t, "the good room's three messages", func() bool { return len(hs.sent()) == 3 })
	// The third is marked sent just after the homeserver took it.
	waitFor(t, "the 4 messages for the unreachable rooms kept, the rest done", func() bool {
		n, _ := st.PendingCount(ctx)
		return n == 4
	})
	h := s.rooms.Health()
	if h.OK || !strings.Contains(h.Detail, "!bad:x: the homeserver refuses the bot there") || !strings.Contains(h.Detail, "#gone:x: the alias does not resolve") ||
		!strings.Contains(h.Detail, "(2 waiting)") {
		t.Errorf("!status does not name the rooms: %+v", h)
	}
	if got := testutil.ToFloat64(m.RoomUnreachable.WithLabelValues("!bad:x")); got != 1 {
		t.Errorf("ibbot_room_unreachable{room=!bad:x} = %v", got)
	}
	// Retries back off instead of hammering (and logging) every moment.
	time.Sleep(300 * time.Millisecond)
	hs.mu.Lock()
	joins, elapsed := hs.joins, time.Since(began)
	hs.mu.Unlock()
	if most := int(elapsed/(50*time.Millisecond)) + 1; joins > most {
		t.Errorf("%d join attempts in %s, want at most %d: no backoff", joins, elapsed, most)
	}

	hs.set("!bad:x", false)
	waitFor(t, "the bad room's messages once it works", func() bool { return len(hs.sent()) == 5 })
	if got := hs.sent(); got[3] != "!bad:x "+TxnID("m0") || got[4] != "!bad:x "+TxnID("m3") {
		t.Errorf("the room's messages went out as %v, want m0 then m3", got[3:])
	}
	if h := s.rooms.Health(); strings.Contains(h.Detail, "!bad:x") {
		t.Errorf("a room that works again is still reported: %+v", h)
	}
	cancel()
	<-done
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestQueueSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(prometheus.NewRegistry())
	newSender(nil, st, m, zerolog.Nop(), time.Now).enqueue(ctx,
		store.Outgoing{Key: "before-crash", RoomID: "!r:x", EventType: "m.room.message", Content: []byte(`{}`)})
	st.Close() // the process dies before sending

	hs := &scriptedHomeserver{posted: map[string]bool{}}
	st2, err := store.OpenSQLite(ctx, filepath.Join(dir, "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	s := newSender(hs, st2, NewMetrics(prometheus.NewRegistry()), zerolog.Nop(), time.Now)
	drain(t, s)
	if !hs.posted[TxnID("before-crash")] {
		t.Fatal("a message queued before the restart was not sent after it")
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"3": 3 * time.Second, "": 0, "soon": 0, now.Add(10 * time.Second).Format(http.TimeFormat): 10 * time.Second,
	} {
		resp := &http.Response{Header: http.Header{"Retry-After": {v}}}
		if got := retryAfterHeader(resp, now); got != want {
			t.Errorf("Retry-After %q = %s, want %s", v, got, want)
		}
	}
}

// TestInterruptedSendIsNotRepeated: a crash during a send that the
// homeserver completed must not post the message again after a restart.
func TestInterruptedSendIsNotRepeated(t *testing.T) {
	hs := &scriptedHomeserver{posted: map[string]bool{TxnID("k"): true}} // it went through before the crash
	s, st, _ := newTestSender(t, hs)
	ctx := context.Background()
	s.enqueue(ctx, store.Outgoing{Key: "k", RoomID: "!r:x", EventType: "m.room.message", Content: []byte(`{}`)})
	msgs, _ := st.Pending(ctx, 1)
	st.Claim(ctx, msgs[0].ID, "sending") // the attempt the crash cut short
	drain(t, s)
	if len(hs.txns) != 0 {
		t.Errorf("sent again after the interrupted attempt: %v", hs.txns)
	}
	if evt, _ := st.EventID(ctx, "k"); evt != "$"+TxnID("k") {
		t.Errorf("the found event was not recorded: %q", evt)
	}
}

// sickRoomsHomeserver posts to every room but the sick ones: there a send
// fails with 503, or, when hang is set, takes until its context ends.
type sickRoomsHomeserver struct {
	sick    map[id.RoomID]bool
	hang    bool
	release chan struct{} // closed: hanging sends end
	delay   time.Duration // each good send takes this long

	mu     sync.Mutex
	posted []string // keys' transaction ids, in order
	tries  map[id.RoomID]int
}

func (h *sickRoomsHomeserver) SendMessageEvent(ctx context.Context, room id.RoomID, _ event.Type, _ any, extra ...mautrix.ReqSendEvent) (*mautrix.RespSendEvent, error) {
	h.mu.Lock()
	h.tries[room]++
	h.mu.Unlock()
	if h.sick[room] {
		if h.hang {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-h.release:
				return nil, errors.New("connection reset by peer")
			}
		}
		return nil, httpErr(503, map[string]any{"errcode": "M_UNKNOWN"})
	}
	time.Sleep(h.delay)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.posted = append(h.posted, extra[0].TransactionID)
	return &mautrix.RespSendEvent{EventID: id.EventID("$" + extra[0].TransactionID)}, nil
}

func (h *sickRoomsHomeserver) Messages(context.Context, id.RoomID, string, string, mautrix.Direction, *mautrix.FilterPart, int) (*mautrix.RespMessages, error) {
	return &mautrix.RespMessages{}, nil
}

func (h *sickRoomsHomeserver) postedKeys(keys ...string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, k := range keys {
		if !slices.Contains(h.posted, TxnID(k)) {
			return false
		}
	}
	return true
}

func (h *sickRoomsHomeserver) position(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Index(h.posted, TxnID(key))
}

// TestSickRoomHoldsUpNoOther: a room whose sends fail (503), or hang,
// holds up neither another room's announcements nor an answer; it is set
// aside, named in the sending health and the metric, and keeps its
// messages.
func TestSickRoomHoldsUpNoOther(t *testing.T) {
	for _, hang := range []bool{false, true} {
		t.Run(fmt.Sprintf("hang=%v", hang), func(t *testing.T) {
			hs := &sickRoomsHomeserver{sick: map[id.RoomID]bool{"!sick:x": true}, hang: hang, tries: map[id.RoomID]int{}, release: make(chan struct{})}
			s, st, m := newTestSender(t, hs)
			ctx := context.Background()
			var want []string
			for i := range 5 {
				s.enqueue(ctx, store.Outgoing{Key: fmt.Sprintf("sick-%d", i), RoomID: "!sick:x", EventType: "m.room.message", Content: []byte(`{}`)})
			}
			for i := range 5 {
				key := fmt.Sprintf("ok-%d", i)
				want = append(want, key)
				s.enqueue(ctx, store.Outgoing{Key: key, RoomID: "!ok:x", EventType: "m.room.message", Content: []byte(`{}`)})
			}
			s.enqueue(ctx, store.Outgoing{Key: "answer", RoomID: "!asker:x", EventType: "m.room.message", Content: []byte(`{}`), Urgent: true})
			want = append(want, "answer")
			start := time.Now()
			var took time.Duration
			runUntil(t, s, func() bool {
				if !hs.postedKeys(want...) {
					return false
				}
				took = time.Since(start)
				close(hs.release)
				return true
			})
			t.Logf("the other rooms' messages went out in %s", took)
			if n, _ := st.PendingIn(ctx, "!sick:x"); n != 5 {
				t.Errorf("%d of the sick room's messages still wait, want all 5", n)
			}
			if hang {
				return // the hanging send is still under way: the room is not yet known to be sick
			}
			runUntil(t, s, func() bool { return !s.rooms.Health().OK })
			if h := s.rooms.Health(); !strings.Contains(h.Detail, "!sick:x: sends keep failing") || !strings.Contains(h.Detail, "5 waiting") {
				t.Errorf("health: %q", h.Detail)
			}
			if got := testutil.ToFloat64(m.RoomUnreachable.WithLabelValues("!sick:x")); got != 1 {
				t.Errorf("ibbot_room_unreachable for the sick room = %v, want 1", got)
			}
		})
	}
}

// TestAnswersGoFirstAcrossRooms: an answer queued behind a backlog of
// announcements for another room is sent before nearly all of them, and
// after a rate limit it goes first.
func TestAnswersGoFirstAcrossRooms(t *testing.T) {
	hs := &sickRoomsHomeserver{tries: map[id.RoomID]int{}, delay: 2 * time.Millisecond}
	s, _, _ := newTestSender(t, hs)
	ctx := context.Background()
	for i := range 200 {
		s.enqueue(ctx, store.Outgoing{Key: fmt.Sprintf("news-%d", i), RoomID: "!news:x", EventType: "m.room.message", Content: []byte(`{}`)})
	}
	asked := false
	runUntil(t, s, func() bool {
		if hs.postedKeys("news-10") && !asked {
			asked = true
			s.gate.limit(50 * time.Millisecond) // the homeserver asks every sender to wait
			s.enqueue(ctx, store.Outgoing{Key: "answer", RoomID: "!asker:x", EventType: "m.room.message", Content: []byte(`{}`), Urgent: true})
		}
		return hs.postedKeys("answer")
	})
	if pos := hs.position("answer"); pos > 14 {
		t.Errorf("the answer was message %d to go out; only announcements under way before it should precede it", pos)
	}
}

// TestRefusedAnswerIsExplained: when the homeserver refuses an answer for
// good, the person gets a short note in its place, in reply to the same
// message; a refused announcement gets none.
func TestRefusedAnswerIsExplained(t *testing.T) {
	tooLarge := httpErr(413, map[string]any{"errcode": "M_TOO_LARGE"})
	hs := &scriptedHomeserver{posted: map[string]bool{}, contents: map[string]json.RawMessage{},
		refuse: map[string]error{TxnID("reply:$question"): tooLarge, TxnID("news"): tooLarge}}
	s, _, _ := newTestSender(t, hs)
	ctx := context.Background()
	answer, _ := json.Marshal(noticeContent(TextReply("a huge answer"), "$question", ""))
	s.enqueue(ctx, store.Outgoing{Key: "reply:$question", RoomID: "!r:x", EventType: "m.room.message", Content: answer, Urgent: true})
	s.enqueue(ctx, store.Outgoing{Key: "news", RoomID: "!r:x", EventType: "m.room.message", Content: []byte(`{}`)})
	drain(t, s)
	raw, ok := hs.contents[TxnID("reply:$question"+refusedSuffix)]
	if !ok || len(hs.posted) != 1 {
		t.Fatalf("posted %v, want the note about the refused answer alone", hs.posted)
	}
	var note event.MessageEventContent
	json.Unmarshal(raw, &note)
	if !strings.Contains(note.Body, "refused it for good (M_TOO_LARGE)") || note.RelatesTo.GetReplyTo() != "$question" {
		t.Errorf("the note says %q in reply to %q", note.Body, note.RelatesTo.GetReplyTo())
	}
}

// TestAnswerOvertakesItsOwnRoomsBacklog: an answer queued in a room with
// a backlog of announcements goes out next, not after the batch the
// room's worker had read.
func TestAnswerOvertakesItsOwnRoomsBacklog(t *testing.T) {
	hs := &sickRoomsHomeserver{tries: map[id.RoomID]int{}, delay: time.Millisecond}
	s, _, _ := newTestSender(t, hs)
	ctx := context.Background()
	for i := range 100 {
		s.enqueue(ctx, store.Outgoing{Key: fmt.Sprintf("news-%d", i), RoomID: "!r:x", EventType: "m.room.message", Content: []byte(`{}`)})
	}
	asked := -1
	runUntil(t, s, func() bool {
		if hs.postedKeys("news-3") && asked < 0 {
			s.enqueue(ctx, store.Outgoing{Key: "answer", RoomID: "!r:x", EventType: "m.room.message", Content: []byte(`{}`), Urgent: true})
			// Counted once the answer is queued: the sender cannot know of
			// it earlier, and the one send under way then may still finish.
			hs.mu.Lock()
			asked = len(hs.posted)
			hs.mu.Unlock()
		}
		return hs.postedKeys("answer")
	})
	if pos := hs.position("answer"); pos > asked+1 {
		t.Errorf("the answer went out as message %d, queued when %d had gone: %d announcements overtook it", pos, asked, pos-asked)
	}
}
