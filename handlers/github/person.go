package github

// GitHub as yourself: people log in through GitHub's device flow; their
// tokens are kept encrypted, never logged or shown.

import (
	"cmp"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/worker"
)

// Sealer encrypts people's tokens with a key the database does not hold
// (AES-GCM, a fresh nonce each time).
type Sealer struct{ aead cipher.AEAD }

// NewSealer makes the sealer from the configured secret.
func NewSealer(secret string) (*Sealer, error) {
	if secret == "" {
		return nil, errors.New("no key to encrypt GitHub tokens with (github.oauth.token_key or encryption.pickle_key)")
	}
	key := sha256.Sum256([]byte("ibbot github tokens\x00" + secret))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts s.
func (x *Sealer) Seal(s string) (string, error) {
	nonce := make([]byte, x.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(x.aead.Seal(nonce, nonce, []byte(s), nil)), nil
}

// Open decrypts what Seal made.
func (x *Sealer) Open(sealed string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < x.aead.NonceSize() {
		return "", errors.New("a stored token does not read")
	}
	plain, err := x.aead.Open(nil, raw[:x.aead.NonceSize()], raw[x.aead.NonceSize():], nil)
	if err != nil {
		return "", errors.New("a stored token does not decrypt (was the key changed?)")
	}
	return string(plain), nil
}

// PeopleStore keeps people's tokens and their logins under way.
type PeopleStore interface {
	SavePerson(ctx context.Context, p store.GitHubPerson) error
	Person(ctx context.Context, userID string) (store.GitHubPerson, bool, error)
	ForgetPerson(ctx context.Context, userID string) error
	StartLogin(ctx context.Context, l store.GitHubLogin) error
	DueLogins(ctx context.Context, now time.Time) ([]store.GitHubLogin, error)
	EndLogin(ctx context.Context, userID string) error
}

// People is GitHub as yourself: the device flow (!gh login, answered in
// a direct chat), the tokens, and the clients that act with them.
type People struct {
	ClientID     string
	ClientSecret string // optional: revocation at logout
	Scopes       []string
	WebURL       string // https://github.com
	APIURL       string // the API, for who a token is and for acting
	HTTP         *http.Client
	Store        PeopleStore
	Sealer       *Sealer
	Log          zerolog.Logger
	Now          func() time.Time
}

// deviceCode is GitHub's answer to POST /login/device/code.
type deviceCode struct {
	DeviceCode      string `json:"device_code"`
	UserCode        string `json:"user_code"`
	VerificationURI string `json:"verification_uri"`
	ExpiresIn       int    `json:"expires_in"`
	Interval        int    `json:"interval"`
}

// tokenAnswer is GitHub's answer to POST /login/oauth/access_token.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	Error       string `json:"error"`
	Interval    int    `json:"interval"`
}

func (p *People) post(ctx context.Context, path string, form url.Values, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(p.WebURL, "/")+path, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := p.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("asking GitHub: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GitHub answered %s", resp.Status)
	}
	return json.Unmarshal(body, into)
}

// Login starts the device flow for req's sender: the answer says where to
// go and which code to enter; the outcome comes later in the same chat.
func (p *People) Login(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if !req.Direct {
		return bot.TextReply("Log in in a direct chat with me: say %sgh login there (your GitHub session is yours alone).", req.Prefix), nil
	}
	var dc deviceCode
	if err := p.post(ctx, "/login/device/code", url.Values{"client_id": {p.ClientID}, "scope": {strings.Join(p.Scopes, " ")}}, &dc); err != nil {
		return bot.Reply{}, err
	}
	if dc.DeviceCode == "" || dc.UserCode == "" {
		return bot.TextReply("GitHub did not start a login (is github.oauth.client_id an app with the device flow enabled?)."), nil
	}
	sealed, err := p.Sealer.Seal(dc.DeviceCode)
	if err != nil {
		return bot.Reply{}, err
	}
	now := p.Now()
	interval := time.Duration(max(dc.Interval, 5)) * time.Second
	if err := p.Store.StartLogin(ctx, store.GitHubLogin{UserID: req.Sender.String(), RoomID: req.RoomID.String(), DeviceEnc: sealed,
		Interval: interval, NextPoll: now.Add(interval), ExpiresAt: now.Add(time.Duration(dc.ExpiresIn) * time.Second)}); err != nil {
		return bot.Reply{}, err
	}
	return new(bot.Msg).Text("Open ").Link(dc.VerificationURI, dc.VerificationURI).Text(" and enter the code ").Code(dc.UserCode).
		Textf(" within %d minutes; I will say here when GitHub lets me act as you.", dc.ExpiresIn/60).Reply(), nil
}

// Logins finishes the device-flow logins under way: it asks GitHub about
// each at the interval GitHub gave (slower when told to slow down), and
// tells the person's chat how it ended. It runs on the leader; the logins
// are in the store, so a restart picks them up.
type Logins struct {
	People *People
	Poster interface {
		Post(ctx context.Context, key, room string, r bot.Reply) error
	}

	state health.State
}

// Health says how the logins go, for !status.
func (w *Logins) Health() health.Report { return w.state.Report("GitHub logins", "no login yet") }

// Run asks GitHub about the logins under way until ctx ends.
func (w *Logins) Run(ctx context.Context) error {
	loop := &worker.Loop{
		Name: "GitHub logins", Interval: time.Second, Retry: backoff.Policy{Min: 5 * time.Second, Max: time.Minute},
		Health: &w.state, Now: w.People.Now, Log: w.People.Log,
		Round: func(ctx context.Context) (string, error) { return "waiting for device-flow logins", w.Step(ctx) },
	}
	return loop.Run(ctx)
}

// Step polls the logins that are due.
func (w *Logins) Step(ctx context.Context) error {
	p := w.People
	due, err := p.Store.DueLogins(ctx, p.Now())
	if err != nil {
		return err
	}
	for _, l := range due {
		if err := w.poll(ctx, l); err != nil {
			return err
		}
	}
	return nil
}

func (w *Logins) poll(ctx context.Context, l store.GitHubLogin) error {
	p := w.People
	tell := func(r bot.Reply) error {
		if err := w.Poster.Post(ctx, fmt.Sprintf("gh:login:%s:%d", l.UserID, l.ExpiresAt.UnixMilli()), l.RoomID, r); err != nil {
			return err
		}
		return p.Store.EndLogin(ctx, l.UserID)
	}
	if p.Now().After(l.ExpiresAt) {
		return tell(bot.TextReply("The GitHub login code expired before it was entered; say !gh login to get a new one."))
	}
	device, err := p.Sealer.Open(l.DeviceEnc)
	if err != nil {
		return tell(bot.TextReply("Your GitHub login cannot go on (%v); say !gh login again.", err))
	}
	var ans tokenAnswer
	if err := p.post(ctx, "/login/oauth/access_token", url.Values{"client_id": {p.ClientID}, "device_code": {device},
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}, &ans); err != nil {
		return err
	}
	switch ans.Error {
	case "":
	case "authorization_pending":
		l.NextPoll = p.Now().Add(l.Interval)
		return p.Store.StartLogin(ctx, l)
	case "slow_down":
		l.Interval = max(l.Interval+5*time.Second, time.Duration(ans.Interval)*time.Second)
		l.NextPoll = p.Now().Add(l.Interval)
		return p.Store.StartLogin(ctx, l)
	case "expired_token":
		return tell(bot.TextReply("The GitHub login code expired before it was entered; say !gh login to get a new one."))
	case "access_denied":
		return tell(bot.TextReply("You declined the login on GitHub; nothing was stored."))
	default:
		return tell(bot.TextReply("GitHub refused the login (%s); say !gh login to try again.", ans.Error))
	}
	if ans.AccessToken == "" {
		return tell(bot.TextReply("GitHub sent no token; say !gh login to try again."))
	}
	user, _, err := p.client(ans.AccessToken).Users.Get(ctx, "")
	if err != nil {
		return tell(bot.TextReply("GitHub gave a token but would not say whose it is (%s); say !gh login to try again.", explain(err)))
	}
	sealed, err := p.Sealer.Seal(ans.AccessToken)
	if err != nil {
		return err
	}
	if err := p.Store.SavePerson(ctx, store.GitHubPerson{UserID: l.UserID, Login: user.GetLogin(), TokenEnc: sealed, CreatedAt: p.Now()}); err != nil {
		return err
	}
	p.Log.Info().Str("user", l.UserID).Str("login", user.GetLogin()).Msg("A person logged in to GitHub")
	return tell(bot.TextReply("✓ Logged in: I act on GitHub as %s for you (%sgh whoami; %sgh logout forgets it).", user.GetLogin(), "!", "!"))
}

// client is a GitHub client acting with token.
func (p *People) client(token string) *gh.Client {
	c := gh.NewClient(p.HTTP).WithAuthToken(token)
	if p.APIURL != "" && !strings.HasPrefix(p.APIURL, "https://api.github.com") {
		base, err := url.Parse(strings.TrimSuffix(p.APIURL, "/") + "/")
		if err == nil {
			c.BaseURL = base
		}
	}
	return c
}

// As is the client acting as user, and their login; ok false when they
// have not logged in.
func (p *People) As(ctx context.Context, user id.UserID) (*gh.Client, string, bool, error) {
	person, ok, err := p.Store.Person(ctx, user.String())
	if err != nil || !ok {
		return nil, "", false, err
	}
	token, err := p.Sealer.Open(person.TokenEnc)
	if err != nil {
		return nil, "", false, err
	}
	return p.client(token), person.Login, true, nil
}

// Whoami is !gh whoami.
func (p *People) Whoami(ctx context.Context, req bot.Request) (bot.Reply, error) {
	person, ok, err := p.Store.Person(ctx, req.Sender.String())
	if err != nil || !ok {
		return bot.TextReply("You are not logged in to GitHub here; %sgh login (in a direct chat with me) lets me act as you.", req.Prefix), err
	}
	return bot.TextReply("You act on GitHub as %s (logged in %s).", person.Login, person.CreatedAt.UTC().Format("2006-01-02")), nil
}

// Logout is !gh logout: the token is forgotten, and revoked at GitHub
// when the app's secret is configured.
func (p *People) Logout(ctx context.Context, req bot.Request) (bot.Reply, error) {
	person, ok, err := p.Store.Person(ctx, req.Sender.String())
	if err != nil || !ok {
		return bot.TextReply("You were not logged in to GitHub here."), err
	}
	revoked := false
	if p.ClientSecret != "" {
		if token, err := p.Sealer.Open(person.TokenEnc); err == nil {
			revoked = p.revoke(ctx, token) == nil
		}
	}
	if err := p.Store.ForgetPerson(ctx, req.Sender.String()); err != nil {
		return bot.Reply{}, err
	}
	if revoked {
		return bot.TextReply("✓ Logged out: your token is deleted here and revoked at GitHub."), nil
	}
	return bot.TextReply("✓ Logged out: your token is deleted here. GitHub still lists the app under your authorized apps until you revoke it there."), nil
}

// revoke asks GitHub to revoke a token (DELETE /applications/{client_id}/token,
// which needs the app's secret).
func (p *People) revoke(ctx context.Context, token string) error {
	body, _ := json.Marshal(map[string]string{"access_token": token})
	u := strings.TrimSuffix(p.APIURL, "/") + "/applications/" + url.PathEscape(p.ClientID) + "/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u, strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	req.SetBasicAuth(p.ClientID, p.ClientSecret)
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := p.HTTP.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("revoking: %s", resp.Status)
	}
	return nil
}

// explain says in a sentence why GitHub refused.
func explain(err error) string {
	var rl *gh.RateLimitError
	var er *gh.ErrorResponse
	switch {
	case errors.As(err, &rl):
		return fmt.Sprintf("your GitHub rate limit is used up until %s", rl.Rate.Reset.UTC().Format("15:04 UTC"))
	case errors.As(err, &er) && er.Response != nil:
		switch er.Response.StatusCode {
		case http.StatusUnauthorized:
			return "GitHub no longer accepts your token (revoked or expired): log in again with !gh login"
		case http.StatusForbidden:
			return "your GitHub account may not do that there (no permission)"
		case http.StatusNotFound:
			return "GitHub knows no such thing, or your account cannot see it"
		case http.StatusUnprocessableEntity:
			var msgs []string
			for _, e := range er.Errors {
				msgs = append(msgs, strings.TrimSpace(e.Field+" "+cmp.Or(e.Message, e.Code)))
			}
			return "GitHub refused it: " + cmp.Or(strings.Join(msgs, "; "), er.Message)
		}
		return "GitHub answered " + er.Response.Status + ": " + er.Message
	}
	return "GitHub could not be reached"
}

func asErr(err error, target **gh.ErrorResponse) bool { return errors.As(err, target) }
