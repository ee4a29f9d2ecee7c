package bot

import (
	"net/http"
	"net/http/httptest"
	"testing"
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
