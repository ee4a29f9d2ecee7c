package bot

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/store"
)

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
