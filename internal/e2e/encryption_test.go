//go:build goolm

package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/crypto/attachment"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/app"
	"github.com/osbuild/ibbot/internal/fixtures"
	"github.com/osbuild/ibbot/internal/testenv"
)

// encryptedStack is a stack whose human's client encrypts, with an
// encrypted room the bot is invited to.
func encryptedStack(t *testing.T) (*stack, id.RoomID) {
	t.Helper()
	s := newStack(t)
	s.human = s.hs.NewCryptoUser(t, "erin")
	room, err := s.human.CreateEncryptedRoom(context.Background(), "encrypted", s.botUser.UserID)
	if err != nil {
		t.Fatal(err)
	}
	s.room = room
	return s, room
}

// decryptedReplyTo matches the bot's answer to cmd, which came encrypted.
func decryptedReplyTo(cmd id.EventID) func(*event.Event) bool {
	return func(e *event.Event) bool { return testenv.Decrypted(e) && testenv.ReplyTo(cmd)(e) }
}

// TestEncryptedRoom: in an encrypted room, a client that encrypts (as
// Element does) gets encrypted answers it can read, and so are a GitHub
// announcement, a list mail and the !arch diagram (an encrypted
// attachment); after a restart the bot answers on the same device; its
// device is cross-signed by the account's own master key.
func TestEncryptedRoom(t *testing.T) {
	d := needDovecot(t)
	s, room := encryptedStack(t)
	cfg := s.config(s.hs.URL)
	hook := withWebhook(t, cfg)
	cfg.GitHub.Subscriptions = []config.Subscription{{Rooms: []string{room.String()}, Repos: []string{"Codertocat/Hello-World"}, Events: []config.Event{config.EventIssues}}}
	cfg.Mail = mailConfig(d, room.String())
	first := startBot(t, cfg)

	cmd := s.human.MustSay(t, room, "!ping")
	answer := s.human.MustWait(t, wait, "the encrypted answer to !ping", decryptedReplyTo(cmd))
	if !strings.Contains(testenv.Body(answer), "pong") {
		t.Errorf("answer %q", testenv.Body(answer))
	}

	body := delivery(t, "issues.opened.payload.json", numbered(4242, "An encrypted announcement"))
	postDelivery(t, hook, "issues", "enc-1", body, sign(body))
	s.human.MustWait(t, wait, "the GitHub announcement, decrypted", func(e *event.Event) bool {
		return testenv.Decrypted(e) && strings.Contains(testenv.Body(e), "Codertocat/Hello-World#4242")
	})

	if err := d.Append(listMail("enc-mail@example.com", "Mail into an encrypted room", "", mailList)); err != nil {
		t.Fatal(err)
	}
	s.human.MustWait(t, wait, "the list mail, decrypted", func(e *event.Event) bool {
		return testenv.Decrypted(e) && threadRootAbout("Mail into an encrypted room")(e)
	})

	arch := s.human.MustSay(t, room, "!arch")
	img := s.human.MustWait(t, wait, "the diagram as an encrypted attachment", func(e *event.Event) bool {
		return decryptedReplyTo(arch)(e) && e.Content.AsMessage().MsgType == event.MsgImage
	})
	checkEncryptedImage(t, s, img.Content.AsMessage())

	device, _ := storedSession(t, s.dbPath)
	signed, err := s.human.E2EE.CrossSigned(context.Background(), s.botUser.UserID, device)
	if err != nil || !signed {
		t.Errorf("the bot's device %s cross-signed by its master key: %v, %v", device, signed, err)
	}

	status := s.human.MustSay(t, room, "!status")
	text := testenv.Body(s.human.MustWait(t, wait, "the answer to !status", decryptedReplyTo(status)))
	if !strings.Contains(text, "✓ encryption: device "+device.String()+", cross-signed") {
		t.Errorf("!status does not show the device and that it is cross-signed:\n%s", text)
	}
	metrics := fetchPage(t, "http://"+cfg.HTTP.Listen+"/metrics")
	for _, want := range []string{`ibbot_decryption_failures_total{reason="no_session"} 0`, `ibbot_decryption_failures_total{reason="error"} 0`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	startBot(t, cfg)
	after := s.human.MustSay(t, room, "!ping")
	s.human.MustWait(t, wait, "an encrypted answer after a restart", decryptedReplyTo(after))
	if again, _ := storedSession(t, s.dbPath); again != device {
		t.Errorf("the bot came back as device %s, was %s", again, device)
	}
	devices, err := s.botUser.Client.GetDevicesInfo(context.Background())
	if err != nil || len(devices.Devices) != 2 { // the test's own login, and the bot's one device
		t.Errorf("the account has %d devices (%v), want the registration's and the bot's", len(devices.Devices), err)
	}
	s.settle(t)
	if n := s.human.Count(func(e *event.Event) bool { return e.Type == event.EventEncrypted }); n != 0 {
		t.Errorf("%d events stayed undecryptable", n)
	}
}

// checkEncryptedImage downloads the attachment and decrypts it: the
// homeserver holds only ciphertext, the client gets the PNG.
func checkEncryptedImage(t *testing.T, s *stack, msg *event.MessageEventContent) {
	t.Helper()
	if msg.File == nil || msg.URL != "" {
		t.Fatalf("the image is not an encrypted attachment: url %q, file %v", msg.URL, msg.File)
	}
	uri, err := msg.File.URL.Parse()
	if err != nil {
		t.Fatal(err)
	}
	data, err := s.human.Client.DownloadBytes(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(data, []byte("\x89PNG")) {
		t.Error("the homeserver holds the image in the clear")
	}
	file := attachment.EncryptedFile(msg.File.EncryptedFile)
	plain, err := file.Decrypt(data)
	if err != nil || !bytes.HasPrefix(plain, []byte("\x89PNG")) {
		t.Errorf("the attachment does not decrypt to a PNG: %v", err)
	}
}

// TestDirectMessage: a direct chat opened from an allowed server (encrypted,
// as Element opens them) is joined; commands work there without the
// prefix, and help says so.
func TestDirectMessage(t *testing.T) {
	s := newStack(t)
	s.human = s.hs.NewCryptoUser(t, "dana")
	cfg := s.config(s.hs.URL)
	cfg.Matrix.Invites.Allow = []string{s.hs.ServerName}
	s.github.SetDocs("osbuild/osbuild.github.io", testenv.DocsFromFS(fixtures.FS, "docs/docs", "docs"), time.Now())
	cfg.Search = config.Search{Refresh: time.Hour, Docs: []config.DocsSource{
		{Repo: "osbuild/osbuild.github.io", Path: "docs", URL: "https://osbuild.org/docs/"}}}
	startBot(t, cfg)
	dm, err := s.human.CreateDM(context.Background(), s.botUser.UserID)
	if err != nil {
		t.Fatal(err)
	}
	s.human.MustWait(t, wait, "the bot joining the direct chat", func(e *event.Event) bool {
		return e.RoomID == dm && e.Type == event.StateMember && e.GetStateKey() == s.botUser.UserID.String() &&
			e.Content.AsMember().Membership == event.MembershipJoin
	})
	cmd := s.human.MustSay(t, dm, "contribute")
	reply := s.human.MustWait(t, wait, "an answer to `contribute` without the prefix", decryptedReplyTo(cmd))
	if !strings.Contains(strings.ToLower(testenv.Body(reply)), "contribut") {
		t.Errorf("answer to contribute: %q", testenv.Body(reply))
	}
	help := s.human.MustSay(t, dm, "help")
	text := testenv.Body(s.human.MustWait(t, wait, "the answer to help", decryptedReplyTo(help)))
	if !strings.Contains(text, "without the") {
		t.Errorf("help in a direct chat does not say commands need no prefix here:\n%s", text)
	}
	bang := s.human.MustSay(t, dm, "!ping")
	s.human.MustWait(t, wait, "an answer to !ping in the direct chat", decryptedReplyTo(bang))
	// The documentation is read at start: ask until it is in.
	var got string
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		docs := s.human.MustSay(t, dm, "docs how do I add a user to a blueprint")
		if got = testenv.Body(s.human.MustWait(t, wait, "the answer to docs", decryptedReplyTo(docs))); !strings.HasPrefix(got, "Nothing") {
			break
		}
	}
	if !strings.Contains(got, "blueprint-reference/#users") {
		t.Errorf("docs in an encrypted direct chat answered:\n%s", got)
	}
}

// TestLostCryptoStoreIsRecovered: when the crypto tables are lost while
// the session is kept (a restore that left them out), the keys on the
// homeserver no longer match the database's: the bot logs in as a new
// device, signs it with the recovery key it was given, and answers
// encrypted again.
func TestLostCryptoStoreIsRecovered(t *testing.T) {
	s, room := encryptedStack(t)
	cfg := s.config(s.hs.URL)
	first := startBot(t, cfg)
	cmd := s.human.MustSay(t, room, "!ping")
	s.human.MustWait(t, wait, "an encrypted answer", decryptedReplyTo(cmd))
	oldDevice, _ := storedSession(t, s.dbPath)
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}

	db := openWritable(t, s.dbPath)
	var recovery string
	if err := db.QueryRow(`SELECT value FROM kv WHERE key = 'crypto.recovery_key'`).Scan(&recovery); err != nil || recovery == "" {
		t.Fatalf("no recovery key kept: %v", err)
	}
	if _, err := db.Exec(`DELETE FROM kv WHERE key = 'crypto.recovery_key'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM crypto_account`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	cfg.Encryption.RecoveryKey = config.NewSecret(recovery)
	startBot(t, cfg)
	newDevice, _ := storedSession(t, s.dbPath)
	if newDevice == oldDevice {
		t.Fatalf("the bot kept device %s whose keys it lost", oldDevice)
	}
	after := s.human.MustSay(t, room, "!ping")
	s.human.MustWait(t, wait, "an encrypted answer from the new device", decryptedReplyTo(after))
	signed, err := s.human.E2EE.CrossSigned(context.Background(), s.botUser.UserID, newDevice)
	if err != nil || !signed {
		t.Errorf("the new device %s is not cross-signed with the recovery key: %v", newDevice, err)
	}
}

// TestEncryptedAnswersExactlyOnce: through rate limits and responses lost
// after the homeserver took the message, every encrypted answer is in the
// room once. Each retry encrypts anew; its transaction id, the same at
// every attempt, makes the homeserver keep one.
func TestEncryptedAnswersExactlyOnce(t *testing.T) {
	s, room := encryptedStack(t)
	faults, proxy := newFaultProxy(t, s.hs.URL)
	startBot(t, s.config(proxy.URL))
	var sent []id.EventID
	for range 9 {
		sent = append(sent, s.human.MustSay(t, room, "!ping"))
	}
	for _, evt := range sent {
		s.human.MustWait(t, wait, "encrypted answer to "+evt.String(), decryptedReplyTo(evt))
	}
	s.settle(t)
	for i, evt := range sent {
		if n := s.human.Count(testenv.ReplyTo(evt)); n != 1 {
			t.Errorf("command %d answered %d times, want exactly 1", i, n)
		}
	}
	faults.mu.Lock()
	defer faults.mu.Unlock()
	if faults.limited == 0 || faults.lostAfter == 0 {
		t.Errorf("the proxy injected %d rate limits and %d lost responses; the test needs both", faults.limited, faults.lostAfter)
	}
}

// TestUnreadableMessageIsAnswered: a message whose room key never reaches
// the bot (its sender's client did not share it) is answered with what to
// do, once a day per sender, instead of silence.
func TestUnreadableMessageIsAnswered(t *testing.T) {
	s, room := encryptedStack(t)
	startBotWith(t, s.config(s.hs.URL), app.Options{KeyWait: 100 * time.Millisecond})
	ctx := context.Background()
	sendUnreadable := func() id.EventID {
		t.Helper()
		// A message of a Megolm session the bot was never given: what a
		// client that withholds its key sends (the ciphertext is long
		// enough to be looked up, not read).
		resp, err := s.human.SendMessageEvent(ctx, room, event.EventEncrypted, map[string]any{
			"algorithm": id.AlgorithmMegolmV1, "ciphertext": strings.Repeat("AwgAEnACgAkLmt6qF84IK++J7UDH2Za1YVchHyprqTqsg", 4),
			"device_id": "OTHERDEVICE", "sender_key": "IlRMeOPX2e0MurIyfWEucYBRVOEEUMrOHqn/8mLqMjA",
			"session_id": "X3lUlvLELLYxeTx4yOVu6UDpasGEVO0Jbu+QFnm0cKQ",
		})
		if err != nil {
			t.Fatal(err)
		}
		return resp.EventID
	}
	first := sendUnreadable()
	note := s.human.MustWait(t, wait, "the note about the unreadable message", decryptedReplyTo(first))
	if !strings.Contains(testenv.Body(note), "could not read your message") {
		t.Errorf("note: %q", testenv.Body(note))
	}
	second := sendUnreadable()
	time.Sleep(time.Second) // the key waits (100 ms each) pass
	s.settle(t)
	if n := s.human.Count(testenv.ReplyTo(second)); n != 0 {
		t.Errorf("the sender was told again within the day (%d notes)", n)
	}
}
