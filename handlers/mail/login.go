package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/osbuild/ibbot/config"
)

// FirstRefreshToken runs the provider's authorization-code flow the way
// desktop mail clients do: it prints a URL to open in a browser, waits on a
// loopback port for the provider to redirect back with a code (PKCE
// protects the exchange), and trades the code for tokens. It returns the
// refresh token the bot needs.
func FirstRefreshToken(ctx context.Context, c config.OAuth2, out io.Writer) (string, error) {
	if c.AuthURL == "" {
		return "", errors.New("mail.imap.oauth2.auth_url is required for mail-login: the provider's authorization endpoint")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	conf := &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret.Value(), Scopes: c.Scopes,
		Endpoint:    oauth2.Endpoint{AuthURL: c.AuthURL, TokenURL: c.TokenURL},
		RedirectURL: "http://" + ln.Addr().String() + "/"}
	state, verifier := randomString(), oauth2.GenerateVerifier()
	// Google returns a refresh token only with offline access and consent.
	url := conf.AuthCodeURL(state, oauth2.AccessTypeOffline, oauth2.ApprovalForce, oauth2.S256ChallengeOption(verifier))
	fmt.Fprintf(out, "Open this address in a browser and sign in as the mailbox's account:\n\n  %s\n\nWaiting for the provider to send the browser back to %s ...\n", url, conf.RedirectURL)
	code, err := waitForCode(ctx, ln, state)
	if err != nil {
		return "", err
	}
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return "", fmt.Errorf("trading the code for tokens: %w", err)
	}
	if tok.RefreshToken == "" {
		return "", errors.New("the provider sent no refresh token: ask for offline access (Microsoft: add the scope offline_access; Google: the app must be allowed offline access)")
	}
	return tok.RefreshToken, nil
}

// waitForCode serves the redirect once and returns its code.
func waitForCode(ctx context.Context, ln net.Listener, state string) (string, error) {
	type result struct {
		code string
		err  error
	}
	got := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case q.Get("state") != state:
			http.Error(w, "this is not the answer to ibbot's request", http.StatusBadRequest)
			return
		case q.Get("error") != "":
			fmt.Fprintf(w, "The provider said: %s. You can close this page.", html.EscapeString(q.Get("error")))
			got <- result{err: fmt.Errorf("the provider refused: %s %s", q.Get("error"), q.Get("error_description"))}
		default:
			fmt.Fprint(w, "ibbot has the authorization. You can close this page.")
			got <- result{code: q.Get("code")}
		}
	})}
	go srv.Serve(ln)
	// Shutdown, not Close: the browser's page is still being written when
	// the code arrives, and Close would cut it off.
	defer shutdown(srv)
	select {
	case r := <-got:
		return r.code, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// shutdown stops srv once its requests are answered (a few seconds at
// most).
func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
}

func randomString() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
