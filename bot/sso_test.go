package bot

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/config"
)

// TestSSOReturnTakesOnlyItsOwnSignIn: the loopback listener accepts the
// login token only with this sign-in's state (a page sending the browser
// there with someone else's token is refused), and only once.
func TestSSOReturnTakesOnlyItsOwnSignIn(t *testing.T) {
	tokens := make(chan string, 1)
	h := ssoReturn("s3cret-state", tokens)
	for _, c := range []struct {
		query string
		want  int
	}{
		{"state=other&loginToken=attacker", http.StatusBadRequest},
		{"loginToken=attacker", http.StatusBadRequest},
		{"state=s3cret-state", http.StatusBadRequest},
		{"state=s3cret-state&loginToken=good", http.StatusOK},
		{"state=s3cret-state&loginToken=again", http.StatusConflict},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/sso?"+c.query, nil))
		if rec.Code != c.want {
			t.Errorf("%s: %d, want %d", c.query, rec.Code, c.want)
		}
	}
	if got := <-tokens; got != "good" {
		t.Errorf("token handed over: %q", got)
	}
}

// TestWrongHomeserverIsNamed: a matrix.homeserver that is a web site (404)
// or answers nothing gets an error naming the key and where the right
// address is found; a homeserver's own refusal does not.
func TestWrongHomeserverIsNamed(t *testing.T) {
	website := httptest.NewServer(http.NotFoundHandler())
	defer website.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, hs := range []string{website.URL, closed.URL} {
		_, err := LoginSSO(t.Context(), SSOOptions{Config: config.Matrix{Homeserver: hs, UserID: "@ibbot:fedora.im"}, Log: zerolog.Nop()})
		if err == nil || !strings.Contains(err.Error(), "is matrix.homeserver, "+hs+", the client-server address") ||
			!strings.Contains(err.Error(), "https://fedora.ems.host") {
			t.Errorf("homeserver %s: %v", hs, err)
		}
	}
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"errcode":"M_FORBIDDEN","error":"no"}`))
	}))
	defer refusing.Close()
	_, err := LoginSSO(t.Context(), SSOOptions{Config: config.Matrix{Homeserver: refusing.URL, UserID: "@ibbot:fedora.im"}, Log: zerolog.Nop()})
	if err == nil || strings.Contains(err.Error(), "is matrix.homeserver") {
		t.Errorf("a homeserver's own refusal is blamed on the address: %v", err)
	}
}
