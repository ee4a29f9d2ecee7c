package mail

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/safe"
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

// explainDial says plainly what went wrong connecting: above all a
// certificate that does not verify (never a reason to fall back to
// plaintext) and what to do about it.
func explainDial(err error) string {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		return "the server's certificate is not signed by a trusted CA (" + err.Error() + "); if a private CA signed it, name that CA in mail.imap.ca_file"
	case errors.As(err, &host):
		return "the server's certificate is not for this address (" + err.Error() + "); check mail.imap.address"
	case errors.As(err, &invalid):
		return "the server's certificate is not valid (" + err.Error() + "), e.g. expired"
	case errors.Is(err, errNoStartTLS):
		return err.Error() + "; ibbot never logs in without TLS: use tls: tls (port 993), or a server with STARTTLS"
	}
	return err.Error()
}

// errNoStartTLS is a server refusing STARTTLS.
var errNoStartTLS = errors.New("the server does not offer STARTTLS")

// login authenticates with the password, or with an OAuth 2.0 access
// token (XOAUTH2 or OAUTHBEARER). A refused token is refreshed and tried
// once more: it may have expired early, or been revoked.
func (w *Watcher) login(ctx context.Context, c *imapclient.Client) error {
	t := w.tokens.Load()
	if t == nil {
		return w.refused(c.Login(w.Config.Username, w.Config.Password.Value()).Wait(), "")
	}
	var err error
	for attempt := range 2 {
		tok, terr := t.token(ctx)
		if terr != nil {
			if errors.Is(terr, errTokenRefused) {
				return &refusedError{terr}
			}
			return terr
		}
		if err = c.Authenticate(saslClient(w.Config.OAuth2.Mechanism, w.Config.Username, tok.AccessToken)); err == nil {
			return nil
		}
		if !serverRefused(err) || attempt == 1 {
			break
		}
		w.Log.Info().Err(err).Msg("The server refused the OAuth 2.0 access token; refreshing it and trying again")
		t.invalidate()
	}
	return w.refused(err, " with OAuth 2.0")
}

// refused wraps a login error: the server saying no is a refusal (no
// quick retry helps), anything else a connection problem.
func (w *Watcher) refused(err error, how string) error {
	if err == nil {
		return nil
	}
	if serverRefused(err) {
		return &refusedError{fmt.Errorf("IMAP login as %s%s refused: %w", w.Config.Username, how, err)}
	}
	return fmt.Errorf("logging in: %w", err)
}

// serverRefused reports whether a login failed because the server said no
// (NO, or an OAUTHBEARER error challenge), not because of the network.
func serverRefused(err error) bool {
	var no *imap.Error
	var bearer *sasl.OAuthBearerError
	return errors.As(err, &no) || errors.As(err, &bearer)
}

// refusedError is the server saying no to the credentials (not a network
// failure during login).
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }

// errHealthy ends a session that worked for a while (a server restart):
// reconnect at once, without backoff.
var errHealthy = errors.New("connection lost after it worked")

func (w *Watcher) dial() (*imapclient.Client, chan struct{}, error) {
	newMail := make(chan struct{}, 1)
	opts := &imapclient.Options{
		WordDecoder: wordDecoder,
		Dialer:      &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case newMail <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	if w.Dial != nil {
		c, err := w.Dial(opts)
		return c, newMail, err
	}
	host, _, _ := net.SplitHostPort(w.Config.Address)
	opts.TLSConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if w.Config.CAFile != "" {
		pool, err := config.LoadCAFile(w.Config.CAFile)
		if err != nil {
			return nil, newMail, fmt.Errorf("mail.imap.ca_file: %w", err)
		}
		opts.TLSConfig.RootCAs = pool
	}
	var c *imapclient.Client
	var err error
	switch w.Config.TLS {
	case config.TLSNone:
		c, err = imapclient.DialInsecure(w.Config.Address, opts)
	case config.TLSStartTLS:
		c, err = imapclient.DialStartTLS(w.Config.Address, opts)
		var said *imap.Error
		if errors.As(err, &said) { // the server answered STARTTLS with NO or BAD
			err = fmt.Errorf("%w (%v)", errNoStartTLS, err)
		}
	default:
		c, err = imapclient.DialTLS(w.Config.Address, opts)
	}
	return c, newMail, err
}

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

// closeGuard closes the connection when the watcher stops, but never under
// a running FETCH: go-imap v2.0.0-beta.8 has its reader goroutine and the
// caller's discard of a half-read literal touch the same buffer when the
// connection closes mid-literal (the race detector caught it). A FETCH
// finishes on its own (the server answers, or go-imap's read timeout
// fires), and the relay loop checks ctx between mails.
type closeGuard struct {
	mu       sync.Mutex
	c        *imapclient.Client
	fetching bool
	stopped  bool
}

func (g *closeGuard) cancel() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	if !g.fetching {
		g.c.Close()
	}
}

// begin reports false when the watcher is stopping and no FETCH may start.
func (g *closeGuard) begin() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fetching = !g.stopped
	return g.fetching
}

func (g *closeGuard) end() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fetching = false
	if g.stopped {
		g.c.Close()
	}
}

// start loads the stored position; the very first start begins at the end
// of the mailbox (less the backfill), and a changed UIDVALIDITY resyncs.
func (w *Watcher) start(ctx context.Context, c *imapclient.Client, sel *imap.SelectData) (position, error) {
	var pos position
	raw, ok, err := w.Store.Get(ctx, w.key())
	if err != nil {
		return pos, err
	}
	if ok {
		json.Unmarshal([]byte(raw), &pos)
	}
	switch {
	case !ok:
		pos = position{UIDValidity: sel.UIDValidity}
		if next := uint32(sel.UIDNext); next > 1 {
			pos.LastUID = imap.UID(max(0, int(next)-1-w.Backfill))
		}
		return pos, w.save(ctx, pos)
	case pos.UIDValidity != sel.UIDValidity:
		w.Log.Warn().Uint32("was", pos.UIDValidity).Uint32("now", sel.UIDValidity).
			Msg("UIDVALIDITY changed: rereading the mailbox; mails already relayed are recognised by Message-ID")
		pos.UIDValidity, pos.LastUID = sel.UIDValidity, 0
		if !pos.LastDate.IsZero() {
			pos.SkipBefore = pos.LastDate.Add(-time.Hour)
		}
		return pos, w.save(ctx, pos)
	}
	return pos, nil
}

func (w *Watcher) save(ctx context.Context, pos position) error {
	b, _ := json.Marshal(pos)
	return w.Store.Put(context.WithoutCancel(ctx), w.key(), string(b))
}

// fetchBatch bounds how many mails one FETCH reads: after a long outage
// memory stays small, and a shutdown (which waits for a running FETCH)
// stays quick.
const fetchBatch = 20

// pending is a message not handled yet, as listed by fetchNew.
type pending struct {
	uid  imap.UID
	date time.Time
}

// fetchNew relays every message with a UID above the last handled one, in
// UID order, until no more arrive. It lists them cheaply (UID and date),
// then reads the bodies in batches.
func (w *Watcher) fetchNew(ctx context.Context, c *imapclient.Client, guard *closeGuard, pos *position, heard time.Time) error {
	for {
		list, err := w.listNew(ctx, c, guard, pos.LastUID)
		if err != nil {
			return err
		}
		if len(list) > 0 {
			w.Metrics.stage(stageListed, heard)
		}
		if len(list) == 0 {
			if !pos.SkipBefore.IsZero() {
				pos.SkipBefore = time.Time{} // caught up after a resync
				return w.save(ctx, *pos)
			}
			return nil
		}
		for batch := range slices.Chunk(list, fetchBatch) {
			if err := w.relayBatch(ctx, c, guard, pos, batch, heard); err != nil {
				return err
			}
		}
	}
}

// listNew lists the messages above last. "UID n:*" always returns the last
// message even when n is past the end, so UIDs are filtered here too.
func (w *Watcher) listNew(ctx context.Context, c *imapclient.Client, guard *closeGuard, last imap.UID) ([]pending, error) {
	var set imap.UIDSet
	set.AddRange(last+1, 0) // 0 is "*"
	msgs, err := w.fetch(ctx, c, guard, set, &imap.FetchOptions{UID: true, InternalDate: true})
	if err != nil {
		return nil, fmt.Errorf("listing new mail: %w", err)
	}
	var list []pending
	for _, m := range msgs {
		if m.UID > last {
			list = append(list, pending{uid: m.UID, date: m.InternalDate})
		}
	}
	slices.SortFunc(list, func(a, b pending) int { return cmp.Compare(a.uid, b.uid) })
	return list, nil
}

// relayBatch reads the bodies of a batch (never more than the configured
// mail size each: BODY.PEEK[]<0.max>) and relays them in UID order,
// storing the position after each. Mail older than a resync's SkipBefore
// was handled under the old UIDVALIDITY and is not even downloaded.
func (w *Watcher) relayBatch(ctx context.Context, c *imapclient.Client, guard *closeGuard, pos *position, batch []pending, heard time.Time) error {
	var set imap.UIDSet
	for _, m := range batch {
		if !m.date.Before(pos.SkipBefore) {
			set.AddNum(m.uid)
		}
	}
	bodies := map[imap.UID][]byte{}
	if len(set) > 0 {
		section := w.bodySection()
		msgs, err := w.fetch(ctx, c, guard, set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
		if err != nil {
			return fmt.Errorf("fetching new mail: %w", err)
		}
		for _, m := range msgs {
			bodies[m.UID] = m.FindBodySection(section)
		}
		w.Metrics.stage(stageFetched, heard)
	}
	for _, m := range batch {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		raw, listed := bodies[m.uid]
		switch {
		case m.date.Before(pos.SkipBefore):
		case !listed:
			w.Log.Info().Uint32("uid", uint32(m.uid)).Msg("A mail was deleted before it could be read; skipping it")
		case raw == nil:
			// Never skip silently what the server did send.
			return fmt.Errorf("the server sent UID %d without its body", m.uid)
		default:
			if err := w.handleOrSkip(ctx, m.uid, raw); err != nil {
				return fmt.Errorf("relaying UID %d: %w", m.uid, err)
			}
		}
		pos.LastUID = m.uid
		if m.date.After(pos.LastDate) {
			pos.LastDate = m.date
		}
		if err := w.save(ctx, *pos); err != nil {
			return err
		}
	}
	return nil
}

// handleOrSkip relays one mail. A mail that makes the relay panic (a bug)
// is skipped with a log line: retried, it would crash the bot at every
// start.
func (w *Watcher) handleOrSkip(ctx context.Context, uid imap.UID, raw []byte) error {
	err := safe.Call(w.Log.With().Uint32("uid", uint32(uid)).Logger(), "A mail crashed the relay; skipping it", func() error { return w.Handle(ctx, raw) })
	var crashed *safe.Panic
	if errors.As(err, &crashed) {
		return nil
	}
	return err
}

// bodySection is the whole message, peeked (\Seen stays as it is), and
// cut at MaxMailBytes when set.
func (w *Watcher) bodySection() *imap.FetchItemBodySection {
	s := &imap.FetchItemBodySection{Peek: true}
	if w.MaxMailBytes > 0 {
		s.Partial = &imap.SectionPartial{Offset: 0, Size: int64(w.MaxMailBytes)}
	}
	return s
}

// fetch runs one FETCH to the end, unless the watcher is stopping.
func (w *Watcher) fetch(ctx context.Context, c *imapclient.Client, guard *closeGuard, set imap.UIDSet, opts *imap.FetchOptions) ([]*imapclient.FetchMessageBuffer, error) {
	if !guard.begin() {
		return nil, ctx.Err()
	}
	defer guard.end()
	return c.Fetch(set, opts).Collect()
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
