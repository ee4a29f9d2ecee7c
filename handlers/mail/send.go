package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/worker"
)

// Outbox is where the mail to send waits, in the database: a mail queued
// is sent even after a restart or a failover, and once sent it is kept,
// so the list's echo of it is recognised.
type Outbox interface {
	QueueMail(ctx context.Context, m store.OutgoingMail) (bool, error)
	MailToSend(ctx context.Context, limit int) ([]store.OutgoingMail, error)
	MailSent(ctx context.Context, messageID string, at time.Time, failure error) error
	MailRefused(ctx context.Context, messageID string, failure error) error
	MailTrying(ctx context.Context, messageID string, at time.Time) error
}

// Echoes says whether the list's copy of a mail came back (the relay
// recorded it): the proof that a mail whose sending a crash cut short
// went out.
type Echoes interface {
	MailRoot(ctx context.Context, messageID string) (string, bool, error)
}

// echoWait is how long a mail whose SMTP transaction a crash cut short
// waits for the list's copy before it is given up (never sent again: the
// server may have taken it, and a mail goes out at most once).
const echoWait = 15 * time.Minute

// Sender sends mail through SMTP. Queue keeps a mail; Run (on the leader)
// sends what waits, trying again with backoff while the server is away.
type Sender struct {
	Config config.SMTP
	OAuth2 config.OAuth2 // the login with auth: oauth2
	Store  Outbox
	Echoes Echoes // nil: no echo is looked for
	KV     KV     // where a rotated OAuth 2.0 refresh token is kept
	Log    zerolog.Logger
	Now    func() time.Time

	once   sync.Once
	wake   chan struct{}
	state  health.State
	tokens *tokens
}

// Health says how sending goes, for !status.
func (s *Sender) Health() health.Report { return s.state.Report("mail sending", "nothing sent yet") }

func (s *Sender) wakeCh() chan struct{} {
	s.once.Do(func() { s.wake = make(chan struct{}, 1) })
	return s.wake
}

// From is the sender's address, as the config gives it.
func (s *Sender) From() string { return s.Config.From }

// Queue keeps a letter for sending, as from the bot; rooms are those that
// saw what it says already (its echo from the list is not announced
// there). The same Message-ID queued again is one mail.
func (s *Sender) Queue(ctx context.Context, l Letter, rooms []string) error {
	if l.From == "" {
		l.From = s.Config.From
	}
	if l.Date.IsZero() {
		l.Date = s.Now()
	}
	raw, err := Compose(l)
	if err != nil {
		return err
	}
	var rcpt []string
	for _, t := range l.To {
		a, _ := gomail.ParseAddress(t) // Compose checked them
		rcpt = append(rcpt, a.Address)
	}
	if _, err := s.Store.QueueMail(ctx, store.OutgoingMail{MessageID: l.MessageID, Raw: raw, Rcpt: rcpt, Rooms: rooms, CreatedAt: s.Now()}); err != nil {
		return err
	}
	select {
	case s.wakeCh() <- struct{}{}:
	default:
	}
	return nil
}

// Run sends the waiting mail as it is queued, and every minute, until ctx
// ends.
func (s *Sender) Run(ctx context.Context) error {
	if s.Config.Username != "" && s.Config.Auth == config.AuthOAuth2 {
		t, err := newTokens(ctx, s.OAuth2, s.KV, s.Config.Username, s.Log)
		if err != nil {
			return err
		}
		s.tokens = t
	}
	loop := &worker.Loop{
		Name: "Mail sending", Interval: time.Minute, Retry: backoff.Policy{Min: 5 * time.Second, Max: 10 * time.Minute},
		Wake: s.wakeCh(), Health: &s.state, Now: s.Now, Log: s.Log,
		Round: func(ctx context.Context) (string, error) { return "sending through " + s.Config.Address, s.Flush(ctx) },
	}
	return loop.Run(ctx)
}

// Flush sends every mail that waits, oldest first; it stops at the first
// the server does not take (the next round tries again).
func (s *Sender) Flush(ctx context.Context) error {
	waiting, err := s.Store.MailToSend(ctx, 20)
	if err != nil || len(waiting) == 0 {
		return err
	}
	c, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, m := range waiting {
		if !m.TriedAt.IsZero() && m.LastError == "" {
			if err := s.settleUncertain(ctx, m); err != nil {
				return err
			}
			continue
		}
		if err := s.Store.MailTrying(ctx, m.MessageID, s.Now()); err != nil {
			return err
		}
		err := c.SendMail(s.envelopeFrom(), m.Rcpt, strings.NewReader(string(m.Raw)))
		var said *smtp.SMTPError
		switch {
		case err == nil:
			s.Log.Info().Str("message_id", m.MessageID).Strs("to", m.Rcpt).Msg("Mail sent")
			err = s.Store.MailSent(ctx, m.MessageID, s.Now(), nil)
		case errors.As(err, &said) && said.Code >= 500:
			// Refused for good (no such recipient, not allowed to post):
			// trying again cannot help, and it must not hold up the rest.
			s.Log.Error().Err(err).Str("message_id", m.MessageID).Strs("to", m.Rcpt).Msg("The SMTP server refused a mail for good; it is kept, not sent")
			if err = s.Store.MailRefused(ctx, m.MessageID, err); err == nil {
				c.Reset()
			}
		default:
			if rerr := s.Store.MailSent(ctx, m.MessageID, s.Now(), err); rerr != nil {
				return rerr
			}
			return fmt.Errorf("sending %s: %w", m.MessageID, err)
		}
		if err != nil {
			return err
		}
	}
	return c.Quit()
}

func (s *Sender) envelopeFrom() string {
	a, err := gomail.ParseAddress(s.Config.From)
	if err != nil {
		return ""
	}
	return a.Address
}

// connect dials, secures and logs in: STARTTLS is required when asked
// for (never a fallback to clear), and a certificate must verify.
func (s *Sender) connect(ctx context.Context) (*smtp.Client, error) {
	host, _, _ := net.SplitHostPort(s.Config.Address)
	tlsConfig := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if s.Config.CAFile != "" {
		pool, err := config.LoadCAFile(s.Config.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mail.smtp.ca_file: %w", err)
		}
		tlsConfig.RootCAs = pool
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second}
	conn, err := dialer.DialContext(ctx, "tcp", s.Config.Address)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", s.Config.Address, err)
	}
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	} else {
		conn.SetDeadline(time.Now().Add(2 * time.Minute))
	}
	var c *smtp.Client
	switch s.Config.TLS {
	case config.TLSImplicit:
		c = smtp.NewClient(tls.Client(conn, tlsConfig))
	case config.TLSNone:
		c = smtp.NewClient(conn)
	default:
		if c, err = smtp.NewClientStartTLS(conn, tlsConfig); err != nil {
			conn.Close()
			return nil, fmt.Errorf("STARTTLS with %s: %w", s.Config.Address, err)
		}
	}
	if err := s.login(ctx, c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (s *Sender) login(ctx context.Context, c *smtp.Client) error {
	if s.Config.Username == "" {
		return nil
	}
	var auth sasl.Client
	if s.tokens != nil {
		tok, err := s.tokens.token(ctx)
		if err != nil {
			return err
		}
		auth = saslClient(s.OAuth2.Mechanism, s.Config.Username, tok.AccessToken)
	} else {
		auth = sasl.NewPlainClient("", s.Config.Username, s.Config.Password.Value())
	}
	if err := c.Auth(auth); err != nil {
		var refused *smtp.SMTPError
		if errors.As(err, &refused) && s.tokens != nil {
			s.tokens.invalidate() // the next round asks for a fresh token
		}
		return fmt.Errorf("SMTP login as %s: %w", s.Config.Username, err)
	}
	return nil
}

// settleUncertain decides about a mail whose SMTP transaction began but
// whose outcome was never recorded (the bot stopped in between): sent if
// the list's copy came back, given up (not sent again) once echoWait has
// passed without it. Sending it again could post it twice.
func (s *Sender) settleUncertain(ctx context.Context, m store.OutgoingMail) error {
	if s.Echoes != nil {
		if _, echoed, err := s.Echoes.MailRoot(ctx, m.MessageID); err != nil || echoed {
			if echoed {
				s.Log.Info().Str("message_id", m.MessageID).Msg("A mail whose sending was cut short had gone out: the list's copy came back")
				return s.Store.MailSent(ctx, m.MessageID, m.TriedAt, nil)
			}
			return err
		}
	}
	if s.Now().Sub(m.TriedAt) < echoWait {
		return nil
	}
	s.Log.Error().Str("message_id", m.MessageID).Strs("to", m.Rcpt).
		Msg("A mail's sending was cut short and no copy came back; it is not sent again, so it cannot go out twice")
	return s.Store.MailRefused(ctx, m.MessageID, errors.New("sending was cut short and the outcome is unknown; not sent again"))
}
