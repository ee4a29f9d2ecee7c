package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/store"
)

// Queue is what the sender needs of the store: a persistent FIFO whose
// entries are keyed for idempotency.
type Queue interface {
	Enqueue(ctx context.Context, msg store.Outgoing) (bool, error)
	Known(ctx context.Context, key string) (bool, error)
	Pending(ctx context.Context, limit int, skipRooms ...string) ([]store.Outgoing, error)
	PendingFor(ctx context.Context, room string, limit int) ([]store.Outgoing, error)
	PendingCount(ctx context.Context) (int, error)
	PendingIn(ctx context.Context, room string) (int, error)
	MarkSentIn(ctx context.Context, id int64, eventID, room string, at time.Time) error
	Anchor(ctx context.Context, key string) (eventID, room string, err error)
	Reanchor(ctx context.Context, key, eventID, room string, at time.Time) error
	Claim(ctx context.Context, id int64, reason string) error
	MarkFailed(ctx context.Context, id int64, reason string, at time.Time) error
	PruneDone(ctx context.Context, now time.Time, r store.Retention) (int64, error)
	EventID(ctx context.Context, key string) (string, error)
	MarkSentByTxn(ctx context.Context, txnID, eventID string, at time.Time) (bool, error)
}

// eventSender is what the sender asks of Matrix: sending, and reading
// recent messages to find out whether an interrupted send went through.
type eventSender interface {
	SendMessageEvent(ctx context.Context, roomID id.RoomID, eventType event.Type, contentJSON any, extra ...mautrix.ReqSendEvent) (*mautrix.RespSendEvent, error)
	Messages(ctx context.Context, roomID id.RoomID, from, to string, dir mautrix.Direction, filter *mautrix.FilterPart, limit int) (*mautrix.RespMessages, error)
}

// sender owns the outgoing queue: every message the bot posts goes through
// it, in order per room, and is retried until the homeserver takes it. It
// never drops a message because of a rate limit or a server error.
//
// Each room with messages waiting is served by a worker of its own, so a
// room whose sends fail or hang holds up no other: after a few failures in
// a row it is set aside (named in !status and ibbot_room_unreachable) and
// tried again later. At most maxRooms rooms are served at once, but a room
// with an answer waiting always gets a worker, and across rooms answers go
// before announcements (see gate).
type sender struct {
	client  eventSender
	queue   Queue
	metrics *Metrics
	log     zerolog.Logger
	now     func() time.Time
	backoff backoff.Policy
	// retention is how long sent messages and relations are kept.
	retention store.Retention
	// flushFor bounds how long a stop may spend sending what is queued.
	flushFor time.Duration
	wake     chan struct{}
	// synced is closed after the bot's first sync, which reports the
	// messages an interrupted run had in fact sent (MarkSentByTxn).
	synced <-chan struct{}
	// inFlight holds the transaction ids of requests under way: their
	// events can come back through sync before the response does, and
	// the sender records those itself.
	inFlight sync.Map
	// resolve turns a room as queued (an id or an alias) into its id;
	// join tries to join a room the homeserver says the bot is not in.
	resolve func(ctx context.Context, room string) (id.RoomID, error)
	join    func(ctx context.Context, room string) error
	// rooms are those whose messages wait because posting there fails.
	rooms *unreachable
	// lease is this replica's leadership: nothing is sent while it is not
	// confirmed.
	lease leaseOf
	// prepare readies a room before a send (an encrypted room's members);
	// nil: nothing to do.
	prepare func(ctx context.Context, room string) error
	// gate orders sends across the rooms' workers.
	gate *gate
	// access says why the bot may not send in a room it was made to leave
	// (or whose power levels bar it); nil: always may.
	access func(ctx context.Context, room id.RoomID) (string, bool)
	// active are the rooms a worker serves now.
	activeMu sync.Mutex
	active   map[string]bool
	// urgentSeq counts the answers queued: a room's worker that sees it
	// change reads its queue again, so an answer in its room goes next.
	urgentSeq atomic.Uint64
	// refused holds the keys of messages whose last attempt the homeserver
	// answered with an error: they were not posted, so the next attempt
	// need not look whether they were.
	refused sync.Map
}

// maxRooms bounds the rooms served at once (answers excepted).
const maxRooms = 4

// failuresBeforeAside is how many transient failures in a row set a room
// aside.
const failuresBeforeAside = 3

func newSender(client eventSender, q Queue, m *Metrics, log zerolog.Logger, now func() time.Time) *sender {
	s := &sender{
		client: client, queue: q, metrics: m, log: log, now: now,
		backoff: backoff.Policy{Min: 500 * time.Millisecond, Max: 2 * time.Minute},
		wake:    make(chan struct{}, 1),
		resolve: func(_ context.Context, room string) (id.RoomID, error) { return id.RoomID(room), nil },
		rooms:   newUnreachable(log, m.RoomUnreachable),
		gate:    newGate(now),
		active:  map[string]bool{},
	}
	s.rooms.count = func(room string) (int, bool) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := q.PendingIn(ctx, room)
		return n, err == nil
	}
	return s
}

// enqueue stores msg for sending and wakes the sender. A key that was
// enqueued before is silently ignored.
func (s *sender) enqueue(ctx context.Context, msg store.Outgoing) error {
	if msg.CreatedAt.IsZero() {
		msg.CreatedAt = s.now()
	}
	msg.TxnID = TxnID(msg.Key)
	added, err := s.queue.Enqueue(ctx, msg)
	if err != nil {
		return err
	}
	if added {
		s.metrics.QueueDepth.Inc()
		if msg.Urgent {
			s.urgentSeq.Add(1)
		}
		s.poke()
	}
	return nil
}

func (s *sender) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run sends until ctx ends. Once drain is closed it returns as soon as the
// queue is empty (rooms set aside excepted): that is the flush on
// shutdown. It hands each room with messages waiting to a worker.
func (s *sender) run(ctx context.Context, drain <-chan struct{}) error {
	s.refreshDepth(ctx)
	var workers sync.WaitGroup
	defer workers.Wait()
	var lastPrune time.Time
	for {
		if s.now().Sub(lastPrune) > 24*time.Hour {
			lastPrune = s.now()
			s.prune(ctx, lastPrune)
		}
		skip, nextTry := s.rooms.skipped(s.now())
		busy := s.activeRooms()
		batch, err := s.queue.Pending(ctx, 64, append(skip, busy...)...)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Error().Err(err).Msg("Reading the outgoing queue failed")
			if !sleepCtx(ctx, time.Second) {
				return nil
			}
			continue
		}
		for _, msg := range batch {
			if s.startWorker(ctx, &workers, msg.RoomID, msg.Urgent, len(busy)) {
				busy = append(busy, msg.RoomID)
			}
		}
		if len(batch) == 0 && len(busy) == 0 && closed(drain) {
			return nil // messages for rooms set aside stay queued for the next start
		}
		var quiet <-chan struct{} // a drain asked for while nothing is under way
		if len(busy) == 0 {
			quiet = drain
		}
		if !s.idle(ctx, nextTry, quiet) {
			return nil
		}
	}
}

// startWorker serves room in a goroutine of its own unless one already
// does, or maxRooms are served and the room's first message is no answer.
func (s *sender) startWorker(ctx context.Context, wg *sync.WaitGroup, room string, urgent bool, serving int) bool {
	s.activeMu.Lock()
	defer s.activeMu.Unlock()
	if s.active[room] || (serving >= maxRooms && !urgent) {
		return false
	}
	s.active[room] = true
	wg.Go(func() {
		defer s.poke() // the dispatcher looks again: more may wait
		defer func() {
			s.activeMu.Lock()
			delete(s.active, room)
			s.activeMu.Unlock()
		}()
		s.serveRoom(ctx, room)
	})
	return true
}

func (s *sender) activeRooms() []string {
	s.activeMu.Lock()
	defer s.activeMu.Unlock()
	out := make([]string, 0, len(s.active))
	for room := range s.active {
		out = append(out, room)
	}
	return out
}

// serveRoom sends room's messages, in order, until none wait, the room is
// set aside, or ctx ends.
func (s *sender) serveRoom(ctx context.Context, room string) {
	for ctx.Err() == nil {
		msgs, err := s.queue.PendingFor(ctx, room, 16)
		if err != nil || len(msgs) == 0 {
			if err != nil && ctx.Err() == nil {
				s.log.Error().Err(err).Str("room_id", room).Msg("Reading the room's outgoing queue failed")
			}
			return
		}
		answers := s.urgentSeq.Load()
		for _, msg := range msgs {
			if !s.deliver(ctx, msg) || s.rooms.waiting(room, s.now()) {
				return
			}
			if s.urgentSeq.Load() != answers {
				break // an answer was queued: it may be for this room, and goes first
			}
		}
	}
}

func (s *sender) prune(ctx context.Context, now time.Time) {
	if n, err := s.queue.PruneDone(ctx, now, s.retention); err != nil {
		s.log.Warn().Err(err).Msg("Pruning the outbox failed")
	} else if n > 0 {
		s.log.Info().Int64("deleted", n).Msg("Pruned old sent messages from the outbox")
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// idle waits for new messages or a worker's end, for a room set aside to
// be due, for drain, or an hour (a chance to prune). It returns false
// when ctx ended.
func (s *sender) idle(ctx context.Context, nextTry time.Time, drain <-chan struct{}) bool {
	wait := time.Hour
	if !nextTry.IsZero() {
		wait = max(nextTry.Sub(s.now()), 10*time.Millisecond)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-drain:
	case <-s.wake:
	case <-timer.C:
	}
	return true
}

func (s *sender) refreshDepth(ctx context.Context) {
	if n, err := s.queue.PendingCount(ctx); err == nil {
		s.metrics.QueueDepth.Set(float64(n))
	}
}

// deliver sends one message, retrying as long as retrying can help. A
// room that cannot be posted to keeps its messages queued and is set
// aside (see unreachable). It returns false only when ctx ended first (the
// message stays queued).
func (s *sender) deliver(ctx context.Context, msg store.Outgoing) bool {
	log := s.log.With().Str("key", msg.Key).Str("room_id", msg.RoomID).Logger()
	queuedFor := msg.RoomID
	roomID, err := s.resolve(ctx, queuedFor)
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		s.roomFails(ctx, queuedFor, "the alias does not resolve: "+err.Error())
		return true
	}
	msg.RoomID = roomID.String()
	if s.access != nil {
		if why, barred := s.access(ctx, roomID); barred {
			s.roomFails(ctx, queuedFor, why)
			return true
		}
	}
	content, carried, err := s.withRelation(ctx, msg)
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		log.Error().Err(err).Msg("Resolving the message's relation failed; sending it on its own")
		content = msg.Content
	}
	if _, wasRefused := s.refused.Load(msg.Key); msg.Attempts > 0 && !wasRefused {
		if done, ok := s.confirmInterrupted(ctx, log, msg); !ok || done {
			return ok
		}
	}
	return s.sendUntilSettled(ctx, log, msg, queuedFor, content, carried)
}

// sendUntilSettled makes attempts until the message is sent, refused for
// good, or its room set aside; false when ctx ended first.
func (s *sender) sendUntilSettled(ctx context.Context, log zerolog.Logger, msg store.Outgoing, queuedFor string, content []byte, carried bool) bool {
	// Until the outcome is recorded, this run's own sync need not confirm
	// the message (the sender will).
	s.inFlight.Store(TxnID(msg.Key), struct{}{})
	defer s.inFlight.Delete(TxnID(msg.Key))
	joined := false
	for attempt := 0; ctx.Err() == nil; attempt++ {
		if !s.gate.enter(ctx, msg.Urgent) {
			return false
		}
		settled, ok := s.claim(ctx, log, msg)
		var resp *mautrix.RespSendEvent
		var err error
		if ok && !settled {
			resp, err = s.send(ctx, msg, content)
		}
		s.gate.leave(msg.Urgent)
		if settled || !ok {
			return ok
		}
		if err == nil {
			s.done(ctx, log, func(c context.Context) error {
				return s.queue.MarkSentIn(c, msg.ID, resp.EventID.String(), msg.RoomID, s.now())
			})
			if carried {
				s.carriedOver(ctx, log, msg, resp.EventID)
			}
			s.metrics.Sent.Inc()
			s.metrics.SendLatency.Observe(s.now().Sub(msg.CreatedAt).Seconds())
			s.rooms.ok(queuedFor, s.now())
			log.Debug().Str("event_id", resp.EventID.String()).Msg("Sent")
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		wait, kind := s.classify(err, attempt)
		s.metrics.SendErrors.WithLabelValues(kind).Inc()
		if answered(err) {
			s.refused.Store(msg.Key, true)
		}
		switch kind {
		case "room":
			// Not in the room (or not allowed to post): join once, then
			// set the room aside and serve the others.
			if !joined && s.join != nil && !errors.Is(err, ErrCannotEncrypt) && s.join(ctx, queuedFor) == nil {
				joined = true
				continue
			}
			reason := "the homeserver refuses the bot there: " + err.Error()
			if errors.Is(err, ErrCannotEncrypt) {
				reason = err.Error()
			}
			s.roomFails(ctx, queuedFor, reason)
			return true
		case "permanent":
			log.Error().Err(err).Bool("answer", msg.Urgent).Msg("Homeserver refused the message for good; it is kept in the outbox as failed")
			s.done(ctx, log, func(c context.Context) error { return s.queue.MarkFailed(c, msg.ID, err.Error(), s.now()) })
			s.tellRefused(ctx, log, msg, err)
			return true
		case "rate_limited":
			// The limit is the account's: every room waits, and answers go
			// first when it ends.
			s.metrics.RateLimitWaits.Inc()
			s.metrics.RateLimitWait.Add(wait.Seconds())
			s.gate.limit(wait)
		case "transient":
			if attempt+1 >= failuresBeforeAside {
				s.roomTrouble(ctx, queuedFor, "sends keep failing: "+err.Error())
				return true
			}
		}
		log.Warn().Err(err).Str("kind", kind).Dur("retry_in", wait).Int("attempt", attempt+1).Msg("Send failed; will retry")
		if !sleepCtx(ctx, wait) {
			return false
		}
	}
	return false
}

// claim takes the message for this attempt: it waits until this
// replica's leadership is confirmed, then records the attempt in the
// database, which also checks that no other replica has taken over since
// (the fence). settled reports the message needs no sending (sent
// meanwhile); ok is false when the sender must stop (ctx ended, or this
// replica is not the leader any more).
func (s *sender) claim(ctx context.Context, log zerolog.Logger, msg store.Outgoing) (settled, ok bool) {
	for wait := 0; ; wait++ {
		if !s.lease.awaitHeld(ctx) {
			return false, false
		}
		err := s.queue.Claim(ctx, msg.ID, "sending")
		switch {
		case err == nil && s.lease.held():
			// Checked again after the claim: a replica frozen while
			// claiming must not send when it wakes.
			log.Debug().Msg("Sending")
			return false, true
		case err == nil:
			continue
		case errors.Is(err, store.ErrSettled):
			s.metrics.QueueDepth.Dec()
			return true, true
		case errors.Is(err, store.ErrFenced):
			log.Error().Err(err).Msg("Another replica leads now: this one sends nothing more")
			return false, false
		}
		// Without the record there is no fence and no crash safety:
		// never send unrecorded.
		delay := s.backoff.Delay(wait)
		log.Error().Err(err).Dur("retry_in", delay).Msg("Recording the attempt failed; the message waits")
		if !sleepCtx(ctx, delay) {
			return false, false
		}
	}
}

// refusedSuffix marks the short answer sent when an answer was refused.
const refusedSuffix = ":refused"

// tellRefused answers the person whose answer the homeserver refused for
// good with a short note saying so, in the same place (once: a refused
// note is not answered again).
func (s *sender) tellRefused(ctx context.Context, log zerolog.Logger, msg store.Outgoing, err error) {
	if !msg.Urgent || strings.HasSuffix(msg.Key, refusedSuffix) {
		return
	}
	var orig event.MessageEventContent
	json.Unmarshal(msg.Content, &orig)
	why := err.Error()
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.RespError != nil {
		why = httpErr.RespError.ErrCode
	}
	note := noticeContent(TextReply("I could not post my answer here: the homeserver refused it for good (%s). "+
		"The operator can find it in the logs.", why), "", "")
	note.RelatesTo = orig.RelatesTo
	raw, _ := json.Marshal(note)
	if err := s.enqueue(context.WithoutCancel(ctx), store.Outgoing{Key: msg.Key + refusedSuffix, RoomID: msg.RoomID,
		EventType: msg.EventType, Content: raw, Urgent: true}); err != nil {
		log.Error().Err(err).Msg("Queueing the note about a refused answer failed")
	}
}

// roomBack tries at once the rooms set aside that are room: the bot was
// invited back, or may send there again.
func (s *sender) roomBack(ctx context.Context, room id.RoomID) {
	skip, _ := s.rooms.skipped(time.Time{})
	for _, name := range skip {
		if got, err := s.resolve(ctx, name); err == nil && got == room {
			s.rooms.forget(name)
		}
	}
	s.poke()
}

// roomMoved tries a room that moved at once: what was queued for it now
// goes to its replacement.
func (s *sender) roomMoved(old id.RoomID) {
	s.rooms.forget(old.String())
	s.poke()
}

// roomFails sets aside a room that refuses the bot until its next try.
func (s *sender) roomFails(ctx context.Context, room, reason string) {
	waiting, _ := s.queue.PendingIn(context.WithoutCancel(ctx), room)
	s.rooms.fail(room, reason, waiting, s.now(), false)
}

// roomTrouble sets aside a room whose sends keep failing (5xx, timeouts)
// for a shorter while: the homeserver may be the one in trouble.
func (s *sender) roomTrouble(ctx context.Context, room, reason string) {
	waiting, _ := s.queue.PendingIn(context.WithoutCancel(ctx), room)
	s.rooms.fail(room, reason, waiting, s.now(), true)
}

// answered reports whether err is the homeserver's answer (so the
// message was not posted), not a lost request.
func answered(err error) bool {
	var httpErr mautrix.HTTPError
	return errors.As(err, &httpErr) && httpErr.Response != nil && httpErr.Response.StatusCode != http.StatusBadGateway &&
		httpErr.Response.StatusCode != http.StatusGatewayTimeout
}

// confirmInterrupted checks whether an earlier, cut-off attempt (a crash)
// was posted after all: homeservers that deduplicate transaction ids only
// for finished requests (Dendrite) would post it again. The first sync
// shows the bot its own events with their transaction ids; it waits for
// that, then looks. done reports the message is settled; ok is false when
// ctx ended first.
func (s *sender) confirmInterrupted(ctx context.Context, log zerolog.Logger, msg store.Outgoing) (done, ok bool) {
	if s.synced != nil {
		select {
		case <-s.synced:
		case <-ctx.Done():
			return false, false
		}
	}
	if evt, err := s.queue.EventID(ctx, msg.Key); err == nil && evt != "" {
		log.Info().Str("event_id", evt).Msg("An interrupted send had gone through (seen in sync); not sending again")
		s.metrics.QueueDepth.Dec()
		return true, true
	}
	if evt := s.findPosted(ctx, msg); evt != "" {
		log.Info().Str("event_id", evt.String()).Msg("An interrupted send had gone through; not sending again")
		s.done(ctx, log, func(c context.Context) error { return s.queue.MarkSentIn(c, msg.ID, evt.String(), msg.RoomID, s.now()) })
		return true, true
	}
	return false, true
}

// findPosted looks through the room's latest messages for one this device
// sent with the message's transaction id.
func (s *sender) findPosted(ctx context.Context, msg store.Outgoing) id.EventID {
	reqCtx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	resp, err := s.client.Messages(reqCtx, id.RoomID(msg.RoomID), "", "", mautrix.DirectionBackward, nil, 100)
	if err != nil {
		s.log.Warn().Err(err).Str("key", msg.Key).Msg("Could not check whether an interrupted send went through; sending it")
		return ""
	}
	txn := TxnID(msg.Key)
	for _, evt := range resp.Chunk {
		if evt.Unsigned.TransactionID == txn {
			return evt.ID
		}
	}
	return ""
}

// sendTimeout bounds one request to the homeserver.
const sendTimeout = 30 * time.Second

// send makes one attempt. A shutdown does not cut a request short: the
// homeserver may already have posted the message, and only a completed
// request lets the bot record that. (Homeservers deduplicate transaction
// ids only once a request has finished, so a retry racing an unfinished
// one could post twice.)
func (s *sender) send(ctx context.Context, msg store.Outgoing, content []byte) (*mautrix.RespSendEvent, error) {
	reqCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	defer cancel()
	if s.prepare != nil {
		if err := s.prepare(reqCtx, msg.RoomID); err != nil {
			return nil, err
		}
	}
	// In an encrypted room the client encrypts (anew at each attempt); the
	// transaction id, the same at each attempt, lets the homeserver keep
	// one of them.
	return s.client.SendMessageEvent(reqCtx, id.RoomID(msg.RoomID), event.NewEventType(msg.EventType),
		json.RawMessage(content), mautrix.ReqSendEvent{TransactionID: TxnID(msg.Key)})
}

// sending reports whether this run is sending the message with this
// transaction id.
func (s *sender) sending(txn string) bool {
	_, ok := s.inFlight.Load(txn)
	return ok
}

// withRelation ties the message to the event its target key was posted
// as: an edit (m.replace) or a line in its thread. When the target never
// made it to the room, the message goes out on its own, unchanged.
func (s *sender) withRelation(ctx context.Context, msg store.Outgoing) (content []byte, carried bool, err error) {
	if msg.Relation == "" {
		return msg.Content, false, nil
	}
	target, targetRoom, err := s.queue.Anchor(ctx, msg.TargetKey)
	if err != nil || target == "" {
		return msg.Content, false, err
	}
	var c event.MessageEventContent
	if err := json.Unmarshal(msg.Content, &c); err != nil {
		return nil, false, err
	}
	switch {
	case targetRoom != "" && targetRoom != msg.RoomID:
		// The message is in a room that was upgraded since: no edit or
		// thread reaches across rooms, so this goes out as a message of
		// its own, linking back, and stands for the earlier one from then
		// on (later edits and thread lines follow it).
		carryOver(&c, id.RoomID(targetRoom), id.EventID(target))
		carried = true
	case msg.Relation == RelReplace:
		// Clients show the new content in place of the old; those without
		// edits show the "* " fallback (cut short for long messages).
		c.RelatesTo = nil
		c.SetEdit(id.EventID(target))
	case msg.Relation == RelThread:
		c.RelatesTo = (&event.RelatesTo{}).SetThread(id.EventID(target), id.EventID(target))
	}
	content, err = json.Marshal(&c)
	return content, carried, err
}

// carryOver turns content into a message of its own that links back to
// the earlier one, in the room before its upgrade.
func carryOver(c *event.MessageEventContent, room id.RoomID, earlier id.EventID) {
	link := room.EventURI(earlier, serverOf(room)).MatrixToURL()
	c.RelatesTo = nil
	c.Body += "\n(continues " + link + ", in this room before its upgrade)"
	if c.Format == event.FormatHTML {
		c.FormattedBody += `<br>(continues <a href="` + html.EscapeString(link) + `">an earlier message</a>, in this room before its upgrade)`
	}
}

// carriedOver makes the message just sent stand for its target key, so
// later edits and thread lines of the item follow it into the new room.
func (s *sender) carriedOver(ctx context.Context, log zerolog.Logger, msg store.Outgoing, evt id.EventID) {
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.queue.Reanchor(c, msg.TargetKey, evt.String(), msg.RoomID, s.now()); err != nil {
		log.Error().Err(err).Msg("Recording the carried-over message failed; the next change is carried over again")
	}
}

// Relations a queued message can have to an earlier one.
const (
	RelReplace = "replace"
	RelThread  = "thread"
)

// done records a final state; it uses a context that outlives a shutdown
// so a message that was sent is never left marked pending when avoidable.
func (s *sender) done(ctx context.Context, log zerolog.Logger, mark func(context.Context) error) {
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := mark(c); err != nil {
		log.Error().Err(err).Msg("Recording the send result failed; the retry will reuse the same transaction id")
	}
	s.metrics.QueueDepth.Dec()
}

// classify says how long to wait before the next attempt and what kind of
// failure err is: rate_limited, transient (retry with backoff), room (the
// room refuses the bot: its messages wait) or permanent (this message).
func (s *sender) classify(err error, attempt int) (time.Duration, string) {
	if errors.Is(err, ErrCannotEncrypt) {
		return 0, "room" // waits, set aside, until the bot can encrypt
	}
	var httpErr mautrix.HTTPError
	if !errors.As(err, &httpErr) || httpErr.Response == nil {
		return s.backoff.Delay(attempt), "transient" // network error, timeout
	}
	status := httpErr.Response.StatusCode
	switch {
	case status == http.StatusTooManyRequests || errors.Is(err, mautrix.MLimitExceeded):
		if httpErr.RespError != nil {
			if ms, ok := httpErr.RespError.ExtraData["retry_after_ms"].(float64); ok && ms > 0 {
				return time.Duration(ms) * time.Millisecond, "rate_limited"
			}
		}
		if d := retryAfterHeader(httpErr.Response, s.now()); d > 0 {
			return d, "rate_limited"
		}
		return s.backoff.Delay(attempt), "rate_limited"
	case status >= 500, status == http.StatusRequestTimeout:
		return s.backoff.Delay(attempt), "transient"
	case status == http.StatusForbidden, status == http.StatusNotFound:
		return 0, "room" // not in the room, no such room, or not allowed to post there
	default:
		return 0, "permanent"
	}
}

func retryAfterHeader(resp *http.Response, now time.Time) time.Duration {
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0
	}
	if secs, err := time.ParseDuration(v + "s"); err == nil {
		return secs
	}
	if t, err := http.ParseTime(v); err == nil {
		return t.Sub(now)
	}
	return 0
}

// TxnID derives the Matrix transaction id from a queue key, so every
// attempt to send the same message uses the same id and the homeserver
// posts it at most once.
func TxnID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "ibbot." + hex.EncodeToString(sum[:12])
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
