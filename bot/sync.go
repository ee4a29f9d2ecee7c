package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/store"
)

// syncFilter keeps the sync small: no presence, no account data, no typing
// notices; members loaded lazily.
func syncFilter() *mautrix.Filter {
	none := &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}}
	return &mautrix.Filter{
		Presence:    none,
		AccountData: none,
		Room: &mautrix.RoomFilter{
			AccountData: none,
			Ephemeral:   none,
			State:       &mautrix.FilterPart{LazyLoadMembers: true},
			Timeline:    &mautrix.FilterPart{Limit: 50, LazyLoadMembers: true},
		},
	}
}

// syncLoop long-polls /sync until ctx ends. The sync token is saved only
// after a batch has been fully handled (its replies queued), so a crash
// replays the batch instead of losing it; the queue's idempotency keys make
// the replay harmless.
func (b *Bot) syncLoop(ctx context.Context) error {
	filter, err := b.client.CreateFilter(ctx, syncFilter())
	if err != nil {
		return fmt.Errorf("creating the sync filter: %w", err)
	}
	since, _, err := b.store.Get(ctx, kvSyncToken)
	if err != nil {
		return err
	}
	firstEver := since == ""
	syncBackoff := backoff.Policy{Min: time.Second, Max: time.Minute}
	for attempt := 0; ctx.Err() == nil; {
		timeout := 30000
		if firstEver || attempt > 0 || !b.Ready() {
			timeout = 0 // answer quickly when catching up
		}
		resp, err := b.client.FullSyncRequest(ctx, mautrix.ReqSync{Timeout: timeout, Since: since, FilterID: filter.FilterID})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if errors.Is(err, mautrix.MUnknownToken) {
				return fmt.Errorf("the homeserver no longer accepts the bot's access token: %w", err)
			}
			wait := syncBackoff.Delay(attempt)
			attempt++
			b.log.Warn().Err(err).Dur("retry_in", wait).Msg("Sync failed")
			sleepCtx(ctx, wait)
			continue
		}
		attempt = 0
		// A replica that was frozen mid-request must not act on what it
		// brings back: another one may lead by now.
		if !b.lease.awaitHeld(ctx) {
			break
		}
		if e := b.encryption.e2ee; e != nil {
			e.ProcessSync(ctx, resp, since) // room keys before the events they open
		}
		b.handleSync(ctx, resp, since, firstEver)
		if err := b.store.Put(context.WithoutCancel(ctx), kvSyncToken, resp.NextBatch); err != nil {
			return fmt.Errorf("saving the sync token: %w", err)
		}
		since, firstEver = resp.NextBatch, false
		if !b.Ready() {
			close(b.readyCh)
			b.log.Info().Msg("First sync done; ready")
		}
	}
	return nil
}

// handleSync acts on one sync response: invites, then the timelines. On the
// very first sync of a new bot the history is only looked at, not answered.
func (b *Bot) handleSync(ctx context.Context, resp *mautrix.RespSync, since string, firstEver bool) {
	for roomID, room := range resp.Rooms.Invite {
		b.invites.handle(ctx, roomID, room.State.Events)
	}
	for roomID, room := range resp.Rooms.Leave {
		for _, evt := range room.Timeline.Events {
			if evt.Type == event.StateMember {
				evt.RoomID = roomID
				b.access.membership(ctx, evt)
			}
		}
	}
	var jobs []job
	for roomID, room := range resp.Rooms.Join {
		events := room.Timeline.Events
		if room.Timeline.Limited && !firstEver {
			events = append(b.fillGap(ctx, roomID, room.Timeline.PrevBatch, since), events...)
		}
		for _, evt := range append(slices.Clone(room.State.Events), events...) {
			evt.RoomID = roomID
			if j, ok := b.consider(ctx, evt, firstEver); ok {
				jobs = append(jobs, j)
			}
		}
		if !firstEver {
			for _, evt := range events {
				if b.welcomer != nil {
					b.welcomer.noteJoin(ctx, evt)
				}
			}
		}
	}
	b.runJobs(ctx, jobs)
	if b.welcomer != nil {
		b.welcomer.flush(ctx)
	}
}

// fillGap fetches the events a limited timeline left out, newest first,
// until it reaches events too old to answer or the previous sync position.
func (b *Bot) fillGap(ctx context.Context, roomID id.RoomID, from, since string) []*event.Event {
	var older []*event.Event
	cutoff := b.now().Add(-b.cfg.CommandMaxAge)
	for page := 0; page < 10 && from != ""; page++ {
		resp, err := b.client.Messages(ctx, roomID, from, since, mautrix.DirectionBackward, nil, 100)
		if err != nil {
			b.log.Warn().Err(err).Str("room_id", roomID.String()).Msg("Fetching missed messages failed; some commands may go unanswered")
			break
		}
		older = append(older, resp.Chunk...)
		if len(resp.Chunk) == 0 || time.UnixMilli(resp.Chunk[len(resp.Chunk)-1].Timestamp).Before(cutoff) {
			break
		}
		from = resp.End
	}
	slices.Reverse(older)
	b.log.Info().Str("room_id", roomID.String()).Int("events", len(older)).Msg("Fetched messages the sync left out (gap after downtime)")
	return older
}

// consider filters one event down to a command job, applying the bot's
// etiquette: not its own events, not notices (other bots), not edits, not
// ignored users, not commands older than the configured age, and not
// commands it has already answered.
func (b *Bot) consider(ctx context.Context, evt *event.Event, history bool) (job, bool) {
	switch evt.Type {
	case event.StateTombstone:
		b.followTombstone(ctx, evt)
		return job{}, false
	case event.StateMember:
		b.access.membership(ctx, evt)
	case event.StatePowerLevels:
		if b.access.powerLevels(evt) && !history {
			b.sender.roomBack(ctx, evt.RoomID) // a room set aside for its power levels is tried again
		}
	}
	if evt.Type == event.StateEncryption {
		if b.encryption.e2ee == nil {
			b.encrypted.warn(evt.RoomID)
		}
		return job{}, false
	}
	if evt.Sender == b.cfg.UserID {
		b.confirmOwn(ctx, evt)
		return job{}, false
	}
	if slices.Contains(b.cfg.IgnoreUsers, evt.Sender) {
		return job{}, false
	}
	if evt.Type == event.EventEncrypted {
		if history || !b.fresh(evt) {
			return job{}, false
		}
		if b.encryption.e2ee == nil {
			b.encrypted.warn(evt.RoomID)
			return job{}, false
		}
		dec, ok := b.decrypted(ctx, evt, func(late *event.Event) { b.answerLate(ctx, late) })
		if !ok {
			return job{}, false
		}
		evt = dec
	}
	b.observe(ctx, evt, history)
	msg, ok := b.plainText(evt)
	if !ok {
		return job{}, false
	}
	body := msg.Body
	if structured, ok := b.router.structuredBody(msg.MSC4391BotCommand); ok {
		body = structured // a client's slash command: dispatched like the typed one
	}
	if history || time.UnixMilli(evt.Timestamp).Before(b.firstStart) {
		return job{}, false // from before the bot's first start: history, not a question to it
	}
	now := b.now()
	b.metrics.SyncLag.Set(now.Sub(time.UnixMilli(evt.Timestamp)).Seconds())
	in := incoming{RoomID: evt.RoomID, EventID: evt.ID, Sender: evt.Sender, Body: body,
		ThreadRoot: msg.RelatesTo.GetThreadParent(), InReplyTo: msg.RelatesTo.GetNonFallbackReplyTo(), Received: now, Direct: b.directs.is(ctx, evt.RoomID)}
	j, ok := b.router.prepare(in)
	if !ok {
		return job{}, false
	}
	log := b.log.With().Str("event_id", evt.ID.String()).Str("command", j.name).Logger()
	if age := eventAge(evt, now); age > b.cfg.CommandMaxAge {
		log.Info().Dur("age", age).Msg("Command too old; not answering")
		return job{}, false
	}
	if done, err := b.store.Known(ctx, replyKey(evt.ID)); err != nil || done {
		if err != nil {
			log.Error().Err(err).Msg("Checking whether the command was answered failed")
		}
		return job{}, false
	}
	return j, true
}

// answerLate answers a command whose room key came after its sync batch
// was handled.
func (b *Bot) answerLate(ctx context.Context, evt *event.Event) {
	if j, ok := b.consider(ctx, evt, false); ok {
		b.runJobs(ctx, []job{j})
	}
}

// plainText is a message event's content when it is a person's plain
// text: not a notice (other bots), not an edit.
func (b *Bot) plainText(evt *event.Event) (*event.MessageEventContent, bool) {
	if evt.Type != event.EventMessage {
		return nil, false
	}
	if err := evt.Content.ParseRaw(evt.Type); err != nil && !errors.Is(err, event.ErrContentAlreadyParsed) {
		b.log.Debug().Err(err).Str("event_id", evt.ID.String()).Msg("Unparsable message ignored")
		return nil, false
	}
	msg := evt.Content.AsMessage()
	if msg.MsgType != event.MsgText || msg.NewContent != nil || msg.RelatesTo.GetReplaceID() != "" {
		return nil, false
	}
	return msg, true
}

// confirmOwn marks a queued message sent when the bot's own event comes
// back through sync with its transaction id: the proof that a send cut off
// by a crash went through.
func (b *Bot) confirmOwn(ctx context.Context, evt *event.Event) {
	txn := evt.Unsigned.TransactionID
	if !strings.HasPrefix(txn, "ibbot.") || b.sender.sending(txn) {
		return
	}
	if marked, err := b.store.MarkSentByTxn(ctx, txn, evt.ID.String(), b.now()); err != nil {
		b.log.Warn().Err(err).Msg("Recording an own event failed")
	} else if marked {
		b.log.Info().Str("event_id", evt.ID.String()).Msg("An interrupted send had gone through")
	}
}

// eventAge prefers the server's own measure (unsigned.age), which is immune
// to clock skew between the homeserver and the bot.
func eventAge(evt *event.Event, now time.Time) time.Duration {
	if evt.Unsigned.Age > 0 {
		return time.Duration(evt.Unsigned.Age) * time.Millisecond
	}
	return now.Sub(time.UnixMilli(evt.Timestamp))
}

func replyKey(evt id.EventID) string { return "reply:" + evt.String() }

// runJobs answers a batch of commands concurrently (a slow command does not
// hold up the others) and returns once every reply is queued.
func (b *Bot) runJobs(ctx context.Context, jobs []job) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			b.answer(ctx, j)
		}()
	}
	wg.Wait()
}

func (b *Bot) answer(ctx context.Context, j job) {
	log := b.log.With().Str("event_id", j.in.EventID.String()).Str("sender", j.in.Sender.String()).Str("command", j.name).Logger()
	reply, outcome := b.router.run(log.WithContext(ctx), j, log)
	name := "unknown"
	switch {
	case j.cmd != nil:
		name = j.cmd.Name
	case j.listener != nil:
		name = "listener"
	}
	b.metrics.Commands.WithLabelValues(name, outcome).Inc()
	log.Info().Str("outcome", outcome).Dur("took", b.now().Sub(j.in.Received)).Msg("Command handled")
	if reply == nil {
		return
	}
	if reply.React != "" {
		if err := b.react(context.WithoutCancel(ctx), replyKey(j.in.EventID), j.in.RoomID, j.in.EventID, reply.React); err != nil {
			log.Error().Err(err).Msg("Queueing the reaction failed")
		}
		return
	}
	content := noticeContent(*reply, j.in.EventID, j.in.ThreadRoot)
	if err := b.enqueue(context.WithoutCancel(ctx), replyKey(j.in.EventID), j.in.RoomID, content); err != nil {
		log.Error().Err(err).Msg("Queueing the reply failed")
	}
	if reply.Image != nil {
		if err := b.images.post(ctx, "reply-image:"+j.in.EventID.String(), j.in.RoomID, reply.Image, j.in.EventID, j.in.ThreadRoot); err != nil {
			log.Error().Err(err).Msg("Posting the reply's image failed")
		}
	}
}

// react queues a reaction (an m.annotation) on target: an answer that
// keeps the room readable, as a meeting's commands get.
func (b *Bot) react(ctx context.Context, key string, room id.RoomID, target id.EventID, emoji string) error {
	raw, err := jsonMarshal(&event.ReactionEventContent{RelatesTo: event.RelatesTo{Type: event.RelAnnotation, EventID: target, Key: emoji}})
	if err != nil {
		return err
	}
	return b.sender.enqueue(ctx, store.Outgoing{Key: key, RoomID: room.String(), EventType: event.EventReaction.Type, Content: raw, Urgent: true})
}

// enqueue queues an answer to someone (a reply, its image, a welcome):
// urgent, so it overtakes announcements waiting in the queue.
func (b *Bot) enqueue(ctx context.Context, key string, room id.RoomID, content *event.MessageEventContent) error {
	raw, err := jsonMarshal(content)
	if err != nil {
		return err
	}
	return b.sender.enqueue(ctx, store.Outgoing{Key: key, RoomID: room.String(), EventType: event.EventMessage.Type, Content: raw, Urgent: true})
}

// fresh reports whether an event is recent enough to react to: sent after
// the bot's first start and within matrix.command_max_age.
func (b *Bot) fresh(evt *event.Event) bool {
	return !time.UnixMilli(evt.Timestamp).Before(b.firstStart) && eventAge(evt, b.now()) <= b.cfg.CommandMaxAge
}
