package bot

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/config"
)

// SSOOptions configure LoginSSO.
type SSOOptions struct {
	Config config.Matrix
	// Store keeps the session, as a password login at start would.
	Store KV
	// Listen is the loopback address the browser comes back to; default
	// 127.0.0.1:0 (any free port). A fixed port suits an SSH tunnel.
	Listen string
	// Open tells the operator which address to open in a browser.
	Open func(url string)
	// Wait bounds how long the sign-in may take; default 10 minutes.
	Wait       time.Duration
	HTTPClient *http.Client
	Log        zerolog.Logger
}

// Session is the Matrix login LoginSSO made.
type Session struct {
	UserID      id.UserID
	DeviceID    id.DeviceID
	AccessToken string
}

// LoginSSO signs the bot's account in through the homeserver's single
// sign-on (m.login.sso), for accounts with no password (Fedora's, through
// FAS): the operator signs in in a browser, the homeserver sends the
// browser back to a listener on loopback with a login token, and the
// token is exchanged for an access token (m.login.token). The session is
// stored like a password login's, on the same device if there was one,
// so `ibbot run` uses it.
func LoginSSO(ctx context.Context, o SSOOptions) (Session, error) {
	client, err := mautrix.NewClient(o.Config.Homeserver, "", "")
	if err != nil {
		return Session{}, fmt.Errorf("matrix.homeserver: %w", err)
	}
	if o.HTTPClient != nil {
		client.Client = o.HTTPClient
	}
	client.Log = o.Log
	flows, err := client.GetLoginFlows(ctx)
	if err != nil {
		return Session{}, fmt.Errorf("asking %s how to log in: %w", o.Config.Homeserver, wrongServerHint(o.Config.Homeserver, err))
	}
	if !flows.HasFlow(mautrix.AuthTypeSSO) {
		return Session{}, fmt.Errorf("%s offers no single sign-on (it offers %s): set matrix.password or matrix.access_token instead",
			o.Config.Homeserver, flowNames(flows))
	}
	token, err := awaitLoginToken(ctx, client, o)
	if err != nil {
		return Session{}, err
	}
	stored, err := readSession(ctx, o.Store, o.Log)
	if err != nil {
		return Session{}, err
	}
	resp, err := client.Login(ctx, &mautrix.ReqLogin{
		Type: mautrix.AuthTypeToken, Token: token,
		DeviceID: reusableDevice(stored, o.Config), InitialDeviceDisplayName: o.Config.DeviceName,
	})
	if err != nil {
		return Session{}, fmt.Errorf("exchanging the sign-in for an access token: %w", err)
	}
	if resp.UserID != o.Config.UserID {
		return Session{}, fmt.Errorf("the browser signed in as %s, but matrix.user_id is %s: sign in as the bot (a private window helps)",
			resp.UserID, o.Config.UserID)
	}
	s := session{Homeserver: o.Config.Homeserver, UserID: resp.UserID, DeviceID: resp.DeviceID,
		AccessToken: resp.AccessToken, ConfigToken: tokenHash(resp.AccessToken)}
	if err := writeSession(ctx, o.Store, s); err != nil {
		return Session{}, fmt.Errorf("storing the session: %w", err)
	}
	return Session{UserID: resp.UserID, DeviceID: resp.DeviceID, AccessToken: resp.AccessToken}, nil
}

// reusableDevice is the stored session's device when it belongs to the
// same account, so signing in again does not add a device.
func reusableDevice(s session, cfg config.Matrix) id.DeviceID {
	if s.UserID == cfg.UserID && s.Homeserver == cfg.Homeserver {
		return s.DeviceID
	}
	return ""
}

func flowNames(flows *mautrix.RespLoginFlows) string {
	var names []string
	for _, f := range flows.Flows {
		names = append(names, string(f.Type))
	}
	if len(names) == 0 {
		return "nothing"
	}
	return fmt.Sprint(names)
}

// awaitLoginToken listens on loopback, shows the address that starts the
// sign-in, and returns the login token the browser brings back. A random
// state in the return address makes sure the token comes from this
// sign-in, not from a page that sent the browser there with its own.
func awaitLoginToken(ctx context.Context, client *mautrix.Client, o SSOOptions) (string, error) {
	listen := o.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return "", fmt.Errorf("listening for the browser's return: %w", err)
	}
	defer ln.Close()
	state := randomHex(16)
	back := fmt.Sprintf("http://%s/sso?state=%s", ln.Addr(), state)
	tokens := make(chan string, 1)
	srv := &http.Server{Handler: ssoReturn(state, tokens), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	// Shutdown, not Close: the browser's page is still being written when
	// the token arrives, and Close would cut it off.
	defer func() {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(c)
	}()

	o.Open(client.BuildURLWithQuery(mautrix.ClientURLPath{"v3", "login", "sso", "redirect"},
		map[string]string{"redirectUrl": back}))
	wait := o.Wait
	if wait <= 0 {
		wait = 10 * time.Minute
	}
	select {
	case tok := <-tokens:
		return tok, nil
	case <-time.After(wait):
		return "", fmt.Errorf("no sign-in came back within %s", wait)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// ssoReturn answers the browser's return and hands over its token.
func ssoReturn(state string, tokens chan<- string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sso", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
			http.Error(w, "This sign-in was not started by this ibbot login.", http.StatusBadRequest)
			return
		}
		tok := q.Get("loginToken")
		if tok == "" {
			http.Error(w, "The homeserver sent no login token.", http.StatusBadRequest)
			return
		}
		select {
		case tokens <- tok:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "Signed in. You can close this tab; ibbot login finishes in the terminal.")
		default:
			http.Error(w, "This sign-in is already complete.", http.StatusConflict)
		}
	})
	return mux
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// ErrNoCredentials means the bot has nothing to log in with.
var ErrNoCredentials = errors.New("no Matrix credentials: set matrix.access_token or matrix.password (or their IBBOT_ variables), or sign in once with `ibbot login`")
