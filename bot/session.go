package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/backoff"
)

// KV is what the bot needs of the store for its own small state.
type KV interface {
	Get(ctx context.Context, key string) (string, bool, error)
	Put(ctx context.Context, key, value string) error
}

const (
	kvSession    = "matrix.session"
	kvSyncToken  = "matrix.sync_token"
	kvFirstStart = "matrix.first_start_at"
)

// session is the Matrix login the bot keeps between runs, so that it logs in
// once (homeservers limit logins hard) and keeps one device.
type session struct {
	Homeserver  string      `json:"homeserver"`
	UserID      id.UserID   `json:"user_id"`
	DeviceID    id.DeviceID `json:"device_id"`
	AccessToken string      `json:"access_token"`
	// ConfigToken is a hash of the matrix.access_token this session was
	// made from, so a token the operator rotates in the config is noticed.
	ConfigToken string `json:"config_token,omitempty"`
}

// tokenHash names a configured token without keeping it twice.
func tokenHash(tok string) string {
	if tok == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:8])
}

// waitHomeserver waits, with back-off, until the homeserver answers at
// all (GET /_matrix/client/versions): a bot started while its homeserver
// is down or restarting waits, not ready, instead of exiting. Any answer
// below 500 will do; login says what is wrong with a strange one.
func (b *Bot) waitHomeserver(ctx context.Context) error {
	var since time.Time
	wait := backoff.Policy{Min: time.Second, Max: 10 * time.Second}
	err := wait.Until(ctx, func(ctx context.Context) error {
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := b.client.Versions(c)
		var httpErr mautrix.HTTPError
		if errors.As(err, &httpErr) && httpErr.Response != nil && httpErr.Response.StatusCode < 500 {
			return nil
		}
		return err
	}, func(err error, changed bool) {
		if since.IsZero() {
			since = b.now()
		}
		if changed {
			b.log.Warn().Err(err).Msg("The homeserver does not answer; not ready, trying again with back-off (if this lasts, check matrix.homeserver)")
		}
	})
	if err == nil && !since.IsZero() {
		b.log.Info().Dur("after", b.now().Sub(since).Round(time.Millisecond)).Msg("The homeserver answers")
	}
	return err
}

// login makes the client usable: a matrix.access_token new to the store
// (first start, or rotated by the operator) is used and kept; otherwise it
// reuses the stored session when it is for the same account and still
// valid, then takes the configured access token, and only as a last resort
// logs in with the password, reusing the stored device id so the account
// does not collect devices.
func (b *Bot) login(ctx context.Context) error {
	stored, err := b.loadSession(ctx)
	if err != nil {
		return err
	}
	cfg := b.cfg
	configured := cfg.AccessToken.Value()
	rotated := configured != "" && tokenHash(configured) != stored.ConfigToken
	if rotated && stored.AccessToken != "" {
		b.log.Info().Msg("matrix.access_token differs from the one the stored session came from; using the configured one")
	}
	if !rotated && stored.UserID == cfg.UserID && stored.Homeserver == cfg.Homeserver && stored.AccessToken != "" {
		b.client.SetCredentials(stored.UserID, stored.AccessToken)
		b.client.DeviceID = stored.DeviceID
		if _, err := b.client.Whoami(ctx); err == nil {
			b.log.Info().Str("device_id", stored.DeviceID.String()).Msg("Reusing stored Matrix session")
			return nil
		} else if !errors.Is(err, mautrix.MUnknownToken) {
			return fmt.Errorf("checking the stored session: %w", wrongServerHint(cfg.Homeserver, err))
		}
		b.log.Warn().Msg("Stored access token was rejected; logging in again on the same device")
	}
	if configured != "" {
		b.client.SetCredentials(cfg.UserID, configured)
		who, err := b.client.Whoami(ctx)
		if err != nil {
			return fmt.Errorf("matrix.access_token was rejected: %w", wrongServerHint(cfg.Homeserver, err))
		}
		b.client.DeviceID = who.DeviceID
		return b.saveSession(ctx, tokenHash(configured))
	}
	if cfg.Password.Value() == "" {
		if stored.AccessToken != "" {
			return fmt.Errorf("the stored session cannot be used (the homeserver rejected it, or it is another account's): sign in again with `ibbot login`, or set matrix.access_token or matrix.password")
		}
		return ErrNoCredentials
	}
	resp, err := b.client.Login(ctx, &mautrix.ReqLogin{
		Type:                     mautrix.AuthTypePassword,
		Identifier:               mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: cfg.UserID.String()},
		Password:                 cfg.Password.Value(),
		DeviceID:                 stored.DeviceID,
		InitialDeviceDisplayName: cfg.DeviceName,
		StoreCredentials:         true,
	})
	if err != nil {
		return fmt.Errorf("logging in as %s: %w", cfg.UserID, wrongServerHint(cfg.Homeserver, err))
	}
	b.log.Info().Str("device_id", resp.DeviceID.String()).Msg("Logged in with password")
	return b.saveSession(ctx, stored.ConfigToken)
}

// wrongServerHint adds to an error that looks like matrix.homeserver
// naming something other than the account's homeserver (nothing answers,
// or it does not speak the client-server API) where to look.
func wrongServerHint(homeserver string, err error) error {
	var httpErr mautrix.HTTPError
	var netErr net.Error
	var dnsErr *net.DNSError
	notMatrix := errors.As(err, &httpErr) && httpErr.Response != nil && httpErr.RespError == nil &&
		(httpErr.Response.StatusCode == http.StatusNotFound || httpErr.Response.StatusCode == http.StatusMethodNotAllowed)
	unreachable := errors.As(err, &dnsErr) || (errors.As(err, &netErr) && !netErr.Timeout()) || errors.Is(err, syscall.ECONNREFUSED)
	if !notMatrix && !unreachable && !errors.Is(err, mautrix.MUnrecognized) {
		return err
	}
	return fmt.Errorf("%w\n(is matrix.homeserver, %s, the client-server address of the account's homeserver? "+
		"It is the m.homeserver base_url in https://SERVER/.well-known/matrix/client of the user id's server; "+
		"for a Fedora account, @name:fedora.im, it is https://fedora.ems.host)", err, homeserver)
}

func (b *Bot) loadSession(ctx context.Context) (session, error) {
	return readSession(ctx, b.store, b.log)
}

// readSession reads the stored session; an unreadable one is ignored.
func readSession(ctx context.Context, kv KV, log zerolog.Logger) (session, error) {
	var s session
	raw, ok, err := kv.Get(ctx, kvSession)
	if err != nil || !ok {
		return s, err
	}
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		log.Warn().Err(err).Msg("Stored session is unreadable; ignoring it")
		return session{}, nil
	}
	return s, nil
}

func (b *Bot) saveSession(ctx context.Context, configToken string) error {
	return writeSession(ctx, b.store, session{
		Homeserver: b.cfg.Homeserver, UserID: b.client.UserID,
		DeviceID: b.client.DeviceID, AccessToken: b.client.AccessToken, ConfigToken: configToken,
	})
}

func writeSession(ctx context.Context, kv KV, s session) error {
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return kv.Put(ctx, kvSession, string(raw))
}

// loadFirstStart reads when this bot first ran, recording now on the very
// first run. Events older than that are history: never answered, and joins
// from then are not greeted.
func (b *Bot) loadFirstStart(ctx context.Context) error {
	raw, ok, err := b.store.Get(ctx, kvFirstStart)
	if err != nil {
		return err
	}
	if ok {
		if t, err := time.Parse(time.RFC3339Nano, raw); err == nil {
			b.firstStart = t
			return nil
		}
	}
	b.firstStart = b.now()
	return b.store.Put(ctx, kvFirstStart, b.firstStart.UTC().Format(time.RFC3339Nano))
}
