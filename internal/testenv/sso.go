package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
)

// SSO puts single sign-on in front of a Dendrite, which has none and
// issues login tokens to nobody over HTTP: it plays the identity provider
// and the homeserver's token login, and passes every other request to
// Dendrite. Signing in (GET .../login/sso/redirect) signs in as the user
// the test chose and sends the browser back with a single-use login
// token; POST /login with that token (m.login.token) logs that user in on
// Dendrite for real (by password, on the device asked for), so the
// session the client gets is a real Dendrite session.
type SSO struct {
	URL string

	dendrite *url.URL
	mu       sync.Mutex
	as       *User
	tokens   map[string]*User
	srv      *httptest.Server
}

// NewSSO serves the shim for d; Close ends it.
func NewSSO(d *Dendrite) *SSO {
	target, _ := url.Parse(d.URL)
	s := &SSO{dendrite: target, tokens: map[string]*User{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_matrix/client/v3/login", s.flows)
	mux.HandleFunc("POST /_matrix/client/v3/login", s.login)
	mux.HandleFunc("GET /_matrix/client/v3/login/sso/redirect", s.redirect)
	mux.Handle("/", httputil.NewSingleHostReverseProxy(target))
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	return s
}

// Close stops the shim.
func (s *SSO) Close() { s.srv.Close() }

// SignInAs makes the next sign-ins sign in as u.
func (s *SSO) SignInAs(u *User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.as = u
}

func (s *SSO) flows(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"flows":[{"type":"m.login.sso"},{"type":"m.login.token"}]}`)
}

// redirect is the identity provider: it "signs in" and sends the browser
// back to redirectUrl with a login token.
func (s *SSO) redirect(w http.ResponseWriter, r *http.Request) {
	back, err := url.Parse(r.URL.Query().Get("redirectUrl"))
	if err != nil || back.Host == "" {
		http.Error(w, "bad redirectUrl", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	tok := randomToken()
	s.tokens[tok] = s.as
	s.mu.Unlock()
	q := back.Query()
	q.Set("loginToken", tok)
	back.RawQuery = q.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// login exchanges a login token (once) for a real Dendrite session.
func (s *SSO) login(w http.ResponseWriter, r *http.Request) {
	var req map[string]any
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if req["type"] != "m.login.token" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"errcode":"M_UNKNOWN","error":"this homeserver signs in by SSO only"}`)
		return
	}
	tok, _ := req["token"].(string)
	s.mu.Lock()
	u := s.tokens[tok]
	delete(s.tokens, tok)
	s.mu.Unlock()
	if u == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"errcode":"M_FORBIDDEN","error":"invalid login token"}`)
		return
	}
	body, _ := json.Marshal(map[string]any{
		"type":       "m.login.password",
		"identifier": map[string]any{"type": "m.id.user", "user": u.UserID.String()},
		"password":   u.Password, "device_id": req["device_id"],
		"initial_device_display_name": req["initial_device_display_name"],
	})
	resp, err := http.Post(s.dendrite.JoinPath("/_matrix/client/v3/login").String(), "application/json", bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
