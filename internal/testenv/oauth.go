package testenv

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// OAuthProvider is an OAuth 2.0 authorization server for tests: a token
// endpoint for the refresh grant (RFC 6749) and an introspection endpoint
// (RFC 7662), which Dovecot's oauth2 passdb asks whether an access token
// is good and whose it is.
type OAuthProvider struct {
	*httptest.Server
	User   string        // whose tokens these are
	TTL    time.Duration // access tokens' lifetime
	Rotate bool          // give a new refresh token with each refresh

	mu        sync.Mutex
	refresh   map[string]bool      // valid refresh tokens
	access    map[string]time.Time // access token -> expiry
	refreshes int
	n         int
}

// NewOAuthProvider serves on loopback; FirstRefreshToken is valid at start.
func NewOAuthProvider(user string) *OAuthProvider {
	p := &OAuthProvider{User: user, TTL: time.Hour, refresh: map[string]bool{FirstRefreshToken: true}, access: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("POST /introspect", p.introspect)
	p.Server = httptest.NewServer(mux)
	return p
}

// FirstRefreshToken is the refresh token the operator starts with.
const FirstRefreshToken = "refresh-token-1"

// AuthURL is the authorization endpoint; it grants at once (no person to
// ask) and sends the browser back with a code.
func (p *OAuthProvider) AuthURL() string { return p.URL + "/authorize" }

func (p *OAuthProvider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("response_type") != "code" || q.Get("code_challenge") == "" {
		http.Error(w, "want a code request with PKCE", http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, q.Get("redirect_uri")+"?code=code-1&state="+q.Get("state"), http.StatusFound)
}

// TokenURL and IntrospectionURL are the endpoints.
func (p *OAuthProvider) TokenURL() string         { return p.URL + "/token" }
func (p *OAuthProvider) IntrospectionURL() string { return p.URL + "/introspect" }

// Refreshes counts the access tokens handed out.
func (p *OAuthProvider) Refreshes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refreshes
}

// ExpireAccessTokens ends every access token handed out so far.
func (p *OAuthProvider) ExpireAccessTokens() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for t := range p.access {
		p.access[t] = time.Time{}
	}
}

// RevokeRefreshTokens makes every refresh token invalid (as a password
// change or a revoked consent does).
func (p *OAuthProvider) RevokeRefreshTokens() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refresh = map[string]bool{}
}

func (p *OAuthProvider) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.Form.Get("grant_type") == "authorization_code" && r.Form.Get("code") == "code-1" && r.Form.Get("code_verifier") != "" {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "access-from-code", "token_type": "Bearer", "expires_in": 3600,
			"refresh_token": FirstRefreshToken})
		return
	}
	rt := r.Form.Get("refresh_token")
	if r.Form.Get("grant_type") != "refresh_token" || !p.refresh[rt] {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`))
		return
	}
	p.n++
	p.refreshes++
	access := fmt.Sprintf("access-token-%d", p.n)
	p.access[access] = time.Now().Add(p.TTL)
	resp := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": int(p.TTL.Seconds())}
	if p.Rotate {
		delete(p.refresh, rt)
		next := fmt.Sprintf("refresh-token-%d", p.n+1)
		p.refresh[next] = true
		resp["refresh_token"] = next
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

func (p *OAuthProvider) introspect(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	p.mu.Lock()
	exp, ok := p.access[r.Form.Get("token")]
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !ok || time.Now().After(exp) {
		w.Write([]byte(`{"active":false}`))
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"active": true, "username": p.User, "exp": exp.Unix()})
}
