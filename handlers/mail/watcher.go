package mail

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/health"
)

// KV keeps the watcher's position between runs.
type KV interface {
	Get(ctx context.Context, key string) (string, bool, error)
	Put(ctx context.Context, key, value string) error
}

// position is where the watcher is in the mailbox. UIDs mean nothing under
// another UIDVALIDITY, so it is stored with them; LastDate lets a resync
// after a UIDVALIDITY change skip mail older than what was handled.
type position struct {
	UIDValidity uint32    `json:"uid_validity"`
	LastUID     imap.UID  `json:"last_uid"`
	LastDate    time.Time `json:"last_date"`
	// SkipBefore is set by a UIDVALIDITY change: mail older than what was
	// handled is not relayed again while the mailbox is reread.
	SkipBefore time.Time `json:"skip_before,omitempty"`
}

// Handler relays one mail; it is called once per new UID, in UID order,
// and the position moves on only after it returns nil.
type Handler func(ctx context.Context, raw []byte) error

// Watcher follows a mailbox over IMAP: it reads new mail by UID with
// BODY.PEEK[] (never touching \Seen), waits with IDLE (re-issued by
// go-imap every 28 minutes) or polls where IDLE is missing, proves the
// connection alive with NOOP (IDLE hides a dead TCP link), and reconnects
// with backoff.
type Watcher struct {
	Config   config.IMAP
	Backfill int
	Handle   Handler
	Store    KV
	Log      zerolog.Logger
	Metrics  *Metrics // nil counts nothing
	// MaxMailBytes caps how much of one mail is downloaded; 0: all of it.
	MaxMailBytes int
	Now          func() time.Time // default time.Now

	state  health.State
	tokens atomic.Pointer[tokens] // with auth: oauth2, set when Run starts
	// Dial overrides how the connection is made (tests); nil uses Config.
	Dial func(opts *imapclient.Options) (*imapclient.Client, error)
}

// Health says whether the watcher is reading the mailbox, for !status.
func (w *Watcher) Health() health.Report { return w.state.Report("mail", "not connected yet") }

func (w *Watcher) now() time.Time {
	if w.Now == nil {
		return time.Now()
	}
	return w.Now()
}

// checked records a complete read of the mailbox.
func (w *Watcher) checked() {
	w.state.Working(fmt.Sprintf("watching %s on %s%s", w.Config.Mailbox, w.Config.Address, w.loginNote()), w.now())
	w.Metrics.checked()
}

// loginNote says how the watcher is logged in, for !status: nothing for
// a password, the OAuth 2.0 token's expiry otherwise (never the token).
func (w *Watcher) loginNote() string {
	t := w.tokens.Load()
	if t == nil {
		return ""
	}
	if exp := t.expiry(); !exp.IsZero() {
		return fmt.Sprintf(" (OAuth 2.0; access token valid until %s UTC)", exp.UTC().Format("15:04"))
	}
	return " (OAuth 2.0)"
}

func (w *Watcher) key() string {
	return "mail.position." + w.Config.Username + "@" + w.Config.Address + "/" + w.Config.Mailbox
}

// Run follows the mailbox until ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	if w.Config.Auth == config.AuthOAuth2 {
		t, err := newTokens(ctx, w.Config.OAuth2, w.Store, w.Config.Username+"@"+w.Config.Address, w.Log)
		if err != nil {
			return fmt.Errorf("mail: %w", err)
		}
		w.tokens.Store(t)
	}
	b := backoff.Policy{Min: time.Second, Max: 2 * time.Minute}
	for attempt := 0; ctx.Err() == nil; {
		err := w.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := b.Delay(attempt)
		w.state.Failing(err.Error(), w.now())
		var refused *refusedError
		switch {
		case errors.As(err, &refused):
			// Wrong credentials do not fix themselves quickly, but the
			// rest of the bot keeps working while the operator fixes them.
			wait = b.Max
			w.Log.Error().Err(err).Dur("retry_in", wait).Msg("IMAP login refused: check mail.imap.username and the password or OAuth 2.0 settings")
		case errors.Is(err, errHealthy):
			attempt, wait = 0, 0
			w.Log.Warn().Err(err).Msg("IMAP connection ended; reconnecting")
		default:
			attempt++
			w.Log.Warn().Err(err).Dur("retry_in", wait).Msg("IMAP connection failed; retrying")
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	return nil
}

// errHealthy ends a session that worked for a while (a server restart):
// reconnect at once, without backoff.
var errHealthy = errors.New("connection lost after it worked")

func (w *Watcher) session(ctx context.Context) error {
	c, newMail, err := w.dial()
	if err != nil {
		return fmt.Errorf("connecting to %s: %s", w.Config.Address, explainDial(err))
	}
	defer c.Close()
	guard := &closeGuard{c: c}
	stop := context.AfterFunc(ctx, guard.cancel) // go-imap calls take no context
	defer stop()
	if err := w.login(ctx, c); err != nil {
		return err
	}
	sel, err := c.Select(w.Config.Mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return fmt.Errorf("selecting %s: %w", w.Config.Mailbox, err)
	}
	pos, err := w.start(ctx, c, sel)
	if err != nil {
		return err
	}
	w.Log.Info().Uint32("uid_validity", pos.UIDValidity).Uint32("last_uid", uint32(pos.LastUID)).Msg("Watching the mailbox")
	w.Metrics.connected(true)
	defer w.Metrics.connected(false)
	healthy := false
	var heard time.Time // when the server last said there is new mail
	for {
		if err := w.fetchNew(ctx, c, guard, &pos, heard); err != nil {
			return err
		}
		w.checked()
		var err error
		if heard, err = w.wait(ctx, c, newMail); err != nil {
			if healthy {
				return fmt.Errorf("%w: %v", errHealthy, err)
			}
			return err
		}
		healthy = true
	}
}

// wait returns when new mail may have arrived: IDLE until the server says
// EXISTS (heard is then when it did), or at most NoopInterval, after which
// a NOOP proves the link is alive; without IDLE, a poll interval.
//
// When ibbot hears of a mail is Dovecot's choice: an IDLE session is told
// of a change 0.5 s after the server notices it (NOTIFY_DELAY_MSECS, to
// batch changes), counted from the first change noticed. A session whose
// timer an unrelated change (another client's index update) had already
// started hears sooner; no IDLE client can do better without polling.
func (w *Watcher) wait(ctx context.Context, c *imapclient.Client, newMail chan struct{}) (heard time.Time, err error) {
	if !c.Caps().Has(imap.CapIdle) {
		select {
		case <-ctx.Done():
			return heard, ctx.Err()
		case <-time.After(w.Config.PollInterval):
		}
		return heard, w.noop(c)
	}
	idle, err := c.Idle()
	if err != nil {
		return heard, fmt.Errorf("IDLE: %w", err)
	}
	timer := time.NewTimer(w.Config.NoopInterval)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-newMail:
		heard = time.Now()
	case <-timer.C:
	case <-c.Closed():
		return heard, errors.New("the server closed the connection")
	}
	if err := idle.Close(); err != nil {
		return heard, fmt.Errorf("ending IDLE: %w", err)
	}
	if err := idle.Wait(); err != nil {
		return heard, fmt.Errorf("IDLE: %w", err)
	}
	if ctx.Err() != nil || !heard.IsZero() {
		// New mail: the FETCH that follows proves the link as well as a
		// NOOP would, one round trip sooner.
		return heard, ctx.Err()
	}
	return heard, w.noop(c)
}

// noop proves the connection alive within a deadline; a dead TCP link
// (which IDLE would never notice) is closed, and the session reconnects.
func (w *Watcher) noop(c *imapclient.Client) error {
	done := make(chan error, 1)
	go func() { done <- c.Noop().Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		c.Close()
		return errors.New("NOOP got no answer in 30 s: the connection is dead")
	}
}
