package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/osbuild/ibbot/internal/testenv"
)

// ssoConfig is a config with no password and no access token.
func ssoConfig(s *stack, homeserver string, port int) string {
	return fmt.Sprintf(`matrix:
  homeserver: %s
  user_id: %q
  rooms: [%q]
database: %s
github: {api_url: %q}
prodhash: {svg_url: %q}
http: {listen: "127.0.0.1:%d"}
log: {level: info, format: json}
`, homeserver, s.botUser.UserID, s.room, s.dbPath, s.github.URL, s.github.DiagramURL(), port)
}

var (
	signInURL = regexp.MustCompile(`(?m)^  (http://\S+/login/sso/redirect\S+)$`)
	signedIn  = regexp.MustCompile(`Signed in as (\S+), device (\S+)\.`)
	tokenLine = regexp.MustCompile(`matrix-access-token=(\S+)`)
)

// ssoLogin runs `ibbot login`, follows the address it prints as a browser
// would, and returns its output and how it exited.
func ssoLogin(t *testing.T, conf string) (string, error) {
	t.Helper()
	cmd := exec.Command(ibbotBinary(t), "login", "-config", writeConfig(t, conf))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var out strings.Builder
	lines := bufio.NewScanner(io.TeeReader(stdout, &out))
	for lines.Scan() {
		if m := signInURL.FindStringSubmatch(lines.Text()); m != nil {
			followSignIn(t, m[1])
			break
		}
	}
	io.Copy(&out, stdout)
	err = cmd.Wait()
	return out.String() + stderr.String(), err
}

// followSignIn opens url as a browser does, following redirects.
func followSignIn(t *testing.T, url string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Errorf("the browser: %v", err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Signed in") {
		t.Errorf("the browser ended on %d %q", resp.StatusCode, body)
	}
}

// TestSSOLogin signs the bot in the way an account without a password
// must (Fedora's): `ibbot login` prints the address to open, the browser
// signs in and comes back to the loopback listener, and the session is
// stored where `ibbot run` finds it. Dendrite has no single sign-on, so an
// identity-provider shim stands in front of it (testenv.SSO); the session
// itself is a real Dendrite one.
func TestSSOLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary against a homeserver")
	}
	s := newStack(t)
	sso := testenv.NewSSO(s.hs)
	t.Cleanup(sso.Close)
	port := freeTCPPort(t)
	conf := ssoConfig(s, sso.URL, port)

	// Nothing to log in with yet: run says what to do.
	out, err := exec.Command(ibbotBinary(t), "run", "-config", writeConfig(t, conf)).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "ibbot login") {
		t.Errorf("run without credentials: %v\n%s\nwant a failure that points at `ibbot login`", err, out)
	}

	// Signing in as someone else is refused and stores nothing.
	sso.SignInAs(s.human)
	out2, err := ssoLogin(t, conf)
	if err == nil || !strings.Contains(out2, "signed in as "+s.human.UserID.String()) {
		t.Errorf("a sign-in as another user: %v\n%s", err, out2)
	}

	sso.SignInAs(s.botUser)
	first, err := ssoLogin(t, conf)
	if err != nil {
		t.Fatalf("ibbot login: %v\n%s", err, first)
	}
	m := signedIn.FindStringSubmatch(first)
	if m == nil || m[1] != s.botUser.UserID.String() || tokenLine.FindStringSubmatch(first) == nil {
		t.Fatalf("ibbot login did not say who signed in, on which device, and the token:\n%s", first)
	}
	device, token := storedSession(t, s.dbPath)
	if device.String() != m[2] || token != tokenLine.FindStringSubmatch(first)[1] {
		t.Errorf("stored session %s/%s; login printed device %s", device, token, m[2])
	}

	// Signing in again keeps the device.
	again, err := ssoLogin(t, conf)
	if err != nil || !strings.Contains(again, "device "+device.String()+".") {
		t.Errorf("a second sign-in: %v, want the same device %s:\n%s", err, device, again)
	}

	p := launchEnv(t, port, conf) // no password, no token: the stored session
	cmd := s.human.MustSay(t, s.room, "!ping")
	s.human.MustWait(t, wait, "an answer from the bot signed in by SSO", testenv.ReplyTo(cmd))
	if !strings.Contains(p.logs.String(), "Reusing stored Matrix session") {
		t.Errorf("the bot did not use the stored session:\n%s", p.logs.String())
	}
}

// TestSSOLoginNeedsSSO: a homeserver without single sign-on gets a clear
// answer, not a browser page that never comes back.
func TestSSOLoginNeedsSSO(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary against a homeserver")
	}
	s := newStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	out, err := exec.CommandContext(ctx, ibbotBinary(t), "login", "-config", writeConfig(t, ssoConfig(s, s.hs.URL, freeTCPPort(t)))).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "offers no single sign-on") || !strings.Contains(string(out), "m.login.password") {
		t.Errorf("login on a homeserver without SSO: %v\n%s", err, out)
	}
}
