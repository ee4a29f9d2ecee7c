package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"

	"github.com/osbuild/ibbot/config"
)

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
