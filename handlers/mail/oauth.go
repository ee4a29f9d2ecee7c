package mail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/rs/zerolog"
	"golang.org/x/oauth2"

	"github.com/osbuild/ibbot/config"
)

// tokens gives an OAuth 2.0 login its access tokens: traded for the
// refresh token at the provider's token endpoint, reused until shortly
// before they expire, and refreshed at once when the server refuses one.
// A refresh token the provider rotates is stored, so a restart uses the
// new one, not the revoked one in the config.
type tokens struct {
	conf *oauth2.Config
	kv   KV
	key  string // where a rotated refresh token is kept
	from string // hash of the configured refresh token
	log  zerolog.Logger

	mu      sync.Mutex
	src     oauth2.TokenSource
	refresh string // the refresh token in use
	last    *oauth2.Token
}

// rotated is what the store keeps of a rotated refresh token.
type rotated struct {
	From  string `json:"from"` // hash of the configured token it replaced
	Token string `json:"token"`
}

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:8])
}

func newTokens(ctx context.Context, c config.OAuth2, kv KV, account string, log zerolog.Logger) (*tokens, error) {
	t := &tokens{
		conf: &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret.Value(), Scopes: c.Scopes,
			Endpoint: oauth2.Endpoint{TokenURL: c.TokenURL, AuthURL: c.AuthURL}},
		kv: kv, key: "mail.oauth2.refresh_token." + account, from: hashToken(c.RefreshToken.Value()), log: log,
		refresh: c.RefreshToken.Value(),
	}
	raw, ok, err := kv.Get(ctx, t.key)
	if err != nil {
		return nil, err
	}
	var r rotated
	if ok && json.Unmarshal([]byte(raw), &r) == nil && r.From == t.from && r.Token != "" {
		t.refresh = r.Token // the provider rotated the configured one
	}
	t.reset()
	return t, nil
}

// reset makes the next token a fresh one from the refresh token.
func (t *tokens) reset() {
	// The source outlives the call that first asks for a token, so its
	// context is not a caller's; the client bounds each refresh instead.
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Timeout: 30 * time.Second})
	t.src = oauth2.ReuseTokenSource(nil, t.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: t.refresh}))
}

// token returns a valid access token, refreshing it when it expires soon.
func (t *tokens) token(ctx context.Context) (*oauth2.Token, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tok, err := t.src.Token()
	if err != nil {
		return nil, explainTokenError(err)
	}
	if tok.RefreshToken != "" && tok.RefreshToken != t.refresh {
		t.refresh = tok.RefreshToken
		b, _ := json.Marshal(rotated{From: t.from, Token: tok.RefreshToken})
		if err := t.kv.Put(ctx, t.key, string(b)); err != nil {
			t.log.Error().Err(err).Msg("Storing the rotated OAuth 2.0 refresh token failed; a restart would use the old one")
		} else {
			t.log.Info().Msg("The provider rotated the OAuth 2.0 refresh token; the new one is stored")
		}
	}
	t.last = tok
	return tok, nil
}

// invalidate drops the current access token (the server refused it).
func (t *tokens) invalidate() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.reset()
}

// expiry is when the current access token expires (zero: none yet).
func (t *tokens) expiry() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil {
		return time.Time{}
	}
	return t.last.Expiry
}

// errTokenRefused is the provider refusing the refresh token itself
// (revoked, expired): no retry helps until the operator gets a new one.
var errTokenRefused = errors.New("the OAuth 2.0 provider refused the refresh token")

func explainTokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && (re.ErrorCode == "invalid_grant" || re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client") {
		return fmt.Errorf("%w (%s): get a new one with `ibbot mail-login`", errTokenRefused, re.ErrorCode)
	}
	return fmt.Errorf("getting an OAuth 2.0 access token: %w", err)
}

// xoauth2 is Google's and Microsoft's XOAUTH2 SASL mechanism.
type xoauth2 struct{ user, token string }

func (x *xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

// Next answers the server's error details (a JSON challenge) with an empty
// response, after which the server says NO.
func (x *xoauth2) Next([]byte) ([]byte, error) { return []byte{}, nil }

// oauthBearer is go-sasl's OAUTHBEARER client, except that it answers the
// server's error challenge as RFC 7628 (3.2.3) says, with a single 0x01,
// so the server ends the exchange with NO. (go-sasl returns an error
// there, which leaves the AUTHENTICATE command unfinished on the wire.)
type oauthBearer struct{ sasl.Client }

func (oauthBearer) Next([]byte) ([]byte, error) { return []byte{0x01}, nil }

// saslClient is the SASL login for an access token.
func saslClient(mech config.SASLMech, user, token string) sasl.Client {
	if mech == config.MechOAuthBearer {
		return oauthBearer{sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: user, Token: token})}
	}
	return &xoauth2{user: user, token: token}
}
