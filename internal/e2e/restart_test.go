package e2e

import (
	"context"
	"fmt"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/testenv"
)

// TestRestart stops and starts the bot on the same database, SQLite and
// PostgreSQL: it must reuse its session and device, never answer an old
// command again, and answer a command sent while it was down exactly once.
func TestRestart(t *testing.T) { onBothDatabases(t, testRestart) }

func testRestart(t *testing.T, s *stack) {
	cfg := s.config(s.hs.URL)

	first := startBot(t, cfg)
	before := s.human.MustSay(t, s.room, "!ping")
	s.human.MustWait(t, wait, "answer before the restart", testenv.ReplyTo(before))
	deviceBefore, _ := storedSession(t, s.dbPath)
	if err := first.stop(); err != nil {
		t.Fatalf("first run ended with %v, want a clean stop", err)
	}

	whileDown := s.human.MustSay(t, s.room, "!help ping")
	// More chatter than the bot's sync filter returns at once (50), so the
	// first sync after the restart is "limited" and the bot must page back
	// to find the command.
	for i := range 60 {
		s.human.MustSay(t, s.room, fmt.Sprintf("chatter %d", i))
	}

	startBot(t, cfg)
	s.human.MustWait(t, wait, "answer to the command sent while down", testenv.ReplyTo(whileDown))
	s.settle(t)

	deviceAfter, token := storedSession(t, s.dbPath)
	if deviceAfter != deviceBefore {
		t.Errorf("device changed across the restart: %s -> %s", deviceBefore, deviceAfter)
	}
	if devices := listDevices(t, s.hs.URL, s.botUser, token); len(devices) != 2 {
		// 2: the one the test registered the account with, and the bot's.
		t.Errorf("bot account has %d devices after two starts, want 2 (registration + bot): %v", len(devices), devices)
	}
	if n := s.human.Count(testenv.ReplyTo(before)); n != 1 {
		t.Errorf("command from before the restart answered %d times, want 1", n)
	}
	if n := s.human.Count(testenv.ReplyTo(whileDown)); n != 1 {
		t.Errorf("command sent while down answered %d times, want 1", n)
	}
}

func listDevices(t *testing.T, hs string, u *testenv.User, token string) []string {
	t.Helper()
	cli, err := mautrix.NewClient(hs, u.UserID, token)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cli.GetDevicesInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range resp.Devices {
		ids = append(ids, d.DeviceID.String())
	}
	return ids
}

// TestRotatedAccessTokenIsUsed: an operator who replaces
// matrix.access_token in the config (a new device, the old token still
// valid) gets the bot on the new token at the next start, not the stored
// session's old one.
func TestRotatedAccessTokenIsUsed(t *testing.T) {
	s := newStack(t)
	login := func(device string) (id.DeviceID, string) {
		cli, err := mautrix.NewClient(s.hs.URL, "", "")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := cli.Login(context.Background(), &mautrix.ReqLogin{
			Type: mautrix.AuthTypePassword, Password: s.botUser.Password,
			Identifier:               mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: s.botUser.UserID.String()},
			InitialDeviceDisplayName: device,
		})
		if err != nil {
			t.Fatal(err)
		}
		return resp.DeviceID, resp.AccessToken
	}
	oldDevice, oldToken := login("old")
	newDevice, newToken := login("new")
	cfg := s.config(s.hs.URL)
	cfg.Matrix.Password = config.NewSecret("")
	cfg.Matrix.AccessToken = config.NewSecret(oldToken)
	first := startBot(t, cfg)
	first.stop()
	if device, _ := storedSession(t, s.dbPath); device != oldDevice {
		t.Fatalf("first start on device %s, want %s", device, oldDevice)
	}

	cfg.Matrix.AccessToken = config.NewSecret(newToken)
	startBot(t, cfg)
	s.settle(t)
	device, token := storedSession(t, s.dbPath)
	if device != newDevice || token != newToken {
		t.Errorf("after rotating the token the bot runs on device %s, want %s", device, newDevice)
	}
}
