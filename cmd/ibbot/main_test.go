package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/testenv"
)

// TestCheckConfigNamesTyposInLists runs `ibbot check-config` on a file a
// person might write: typos inside list entries fail it, each named with
// its full path and line; the same file without them passes.
func TestCheckConfigNamesTyposInLists(t *testing.T) {
	dir := t.TempDir()
	good := `matrix: {homeserver: "https://hs.example", user_id: "@ibbot:hs.example", password: x}
github:
  poll_interval: 0
  subscriptions:
    - rooms: ["#a:hs.example"]
      repos: [osbuild/osbuild]
      labels: {include: [bug]}
      events: [issues]
`
	bad := strings.NewReplacer("labels:", "lables:", "events:", "evnets:").Replace(good)
	for name, text := range map[string]string{"good.yaml": good, "bad.yaml": bad} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"check-config", "-config", filepath.Join(dir, "good.yaml")}, &out, &out); err != nil {
		t.Fatalf("a good config (with poll_interval: 0) was refused: %v", err)
	}
	err := run(context.Background(), []string{"check-config", "-config", filepath.Join(dir, "bad.yaml")}, &out, &out)
	if err == nil {
		t.Fatal("typos inside a list entry passed check-config")
	}
	for _, want := range []string{
		`github.subscriptions[0].lables (line 7): unknown key; did you mean "labels"?`,
		`github.subscriptions[0].evnets (line 8): unknown key; did you mean "events"?`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("check-config does not say %s:\n%v", want, err)
		}
	}
}

// TestCheckConfigRefusesWhatRunRefuses: a source for a component the
// catalogue lacks fails at start; check-config says so first.
func TestCheckConfigRefusesWhatRunRefuses(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(file, []byte(`matrix: {homeserver: "https://hs.example", user_id: "@ibbot:hs.example", password: x}
prodhash: {sources: {compser: {type: static, sha: 0e2daa201f0a0d97358a12740bfad416c9e4f7b4}}}
`), 0o600)
	var out bytes.Buffer
	err := run(context.Background(), []string{"check-config", "-config", file}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), `prodhash.sources.compser: the catalogue has no component "compser"`) {
		t.Fatalf("check-config: %v", err)
	}
}

// TestReleaseBuildHasNoTestCode: the binary tools/build.sh (and so the
// Dockerfile) builds links neither the test servers nor package testing.
func TestReleaseBuildHasNoTestCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "nodemo", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "testing" || strings.Contains(pkg, "/internal/testenv") || strings.Contains(pkg, "/internal/demo") || strings.Contains(pkg, "/internal/fixtures") {
			t.Errorf("the release build links %s", pkg)
		}
	}
}

// TestMailLoginGetsTheFirstRefreshToken: mail-login sends the person to
// the provider's sign-in (here a test provider that grants at once, and
// the test plays the browser), receives the code on loopback, trades it
// with PKCE and prints the refresh token with how to store it.
func TestMailLoginGetsTheFirstRefreshToken(t *testing.T) {
	p := testenv.NewOAuthProvider("ibbot@example.org")
	defer p.Close()
	file := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(file, []byte(`matrix: {homeserver: "https://hs.example", user_id: "@ibbot:hs.example", password: x}
mail:
  imap:
    address: "imap.example.org:993"
    username: ibbot@example.org
    auth: oauth2
    oauth2: {auth_url: "`+p.AuthURL()+`", token_url: "`+p.TokenURL()+`", client_id: ibbot-app, scopes: ["https://mail.google.com/"]}
  list_id: [l]
  rooms: ["!r:hs.example"]
`), 0o600)
	r, w := io.Pipe()
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		err := run(context.Background(), []string{"mail-login", "-config", file}, io.MultiWriter(w, &out), io.Discard)
		w.Close()
		done <- err
	}()
	// The browser: open the printed address and follow the redirects.
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		if url := strings.TrimSpace(scanner.Text()); strings.HasPrefix(url, p.AuthURL()) {
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			break
		}
	}
	go io.Copy(io.Discard, r)
	if err := <-done; err != nil {
		t.Fatalf("mail-login: %v\n%s", err, out.String())
	}
	for _, want := range []string{testenv.FirstRefreshToken, "IBBOT_IMAP_OAUTH2_REFRESH_TOKEN"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("mail-login output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestRecoveryKeyIsPrintedFromTheDatabase: `ibbot recovery-key` shows the
// key the bot kept, also while a bot holds the SQLite file, and says
// plainly when there is none.
func TestRecoveryKeyIsPrintedFromTheDatabase(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "ibbot.db")
	conf := filepath.Join(dir, "c.yaml")
	os.WriteFile(conf, []byte("matrix: {homeserver: \"https://hs.example\", user_id: \"@ibbot:hs.example\"}\ndatabase: "+dbPath+"\n"), 0o600)
	running, err := store.Open(context.Background(), dbPath) // a bot holding the file
	if err != nil {
		t.Fatal(err)
	}
	defer running.Close()
	var out bytes.Buffer
	err = run(context.Background(), []string{"recovery-key", "-config", conf}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "holds no recovery key") {
		t.Errorf("without a key: %v", err)
	}
	if err := running.Put(context.Background(), "crypto.recovery_key", "EsTc 1234 abcd"); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"recovery-key", "-config", conf}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "  EsTc 1234 abcd\n") || !strings.Contains(out.String(), "IBBOT_RECOVERY_KEY") {
		t.Errorf("output:\n%s", out.String())
	}
}

// TestLoginNeedsOnlyTheMatrixPart: `ibbot login` with a config whose mail
// relay is half set up (no IMAP password yet) goes on to the homeserver
// (here nothing answers); a problem in the matrix part still stops it, in
// the file's line order with the rest.
func TestLoginNeedsOnlyTheMatrixPart(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ibbot.yaml")
	text := `matrix: {homeserver: "http://127.0.0.1:1", user_id: "@ibbot:fedora.im"}
database: ` + filepath.Join(dir, "ibbot.db") + `
mail:
  imap: {address: "imap.example.org:993", username: ibbot}
  list_id: [image-builder.lists.example.org]
  rooms: ["#image-builder:fedoraproject.org"]
`
	os.WriteFile(file, []byte(text), 0o600)
	var out bytes.Buffer
	err := run(context.Background(), []string{"login", "-config", file}, &out, &out)
	if err == nil || strings.Contains(err.Error(), "mail.") || !strings.Contains(err.Error(), "is matrix.homeserver") {
		t.Errorf("login with an unfinished mail part: %v", err)
	}
	if err := run(context.Background(), []string{"check-config", "-config", file}, &out, &out); err == nil || !strings.Contains(err.Error(), "mail.imap.password") {
		t.Errorf("check-config accepts the unfinished mail part: %v", err)
	}
	os.WriteFile(file, []byte(strings.Replace(text, `"@ibbot:fedora.im"`, `"ibbot"`, 1)), 0o600)
	if err := run(context.Background(), []string{"login", "-config", file}, &out, &out); err == nil || !strings.Contains(err.Error(), "matrix.user_id (line 1)") {
		t.Errorf("login with a broken user id: %v", err)
	}
}
