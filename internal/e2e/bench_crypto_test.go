//go:build goolm

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/testenv"
)

// BenchmarkEncryptedRoundTrip measures, in one run against the real
// binary, `!ping` in an encrypted room next to `!ping` in a plain room
// (interleaved, so both see the same machine noise), as a client that
// encrypts sees it: its message encrypted, the answer decrypted. It also
// reads the bot's resident memory when idle, with encryption off and on.
// Run: go test -tags goolm ./internal/e2e -run '^$' -bench EncryptedRoundTrip -benchtime 1x
func BenchmarkEncryptedRoundTrip(b *testing.B) {
	const n = 300
	s := newStack(b)
	s.human = s.hs.NewCryptoUser(b, "erin")
	ctx := context.Background()
	plain, err := s.human.CreateRoom(ctx, "plain", s.botUser.UserID)
	if err != nil {
		b.Fatal(err)
	}
	enc, err := s.human.CreateEncryptedRoom(ctx, "encrypted", s.botUser.UserID)
	if err != nil {
		b.Fatal(err)
	}
	rooms := fmt.Sprintf("[%q, %q]", plain, enc)

	offRSS := idleRSS(b, s, rooms, "encryption: {enabled: false}")
	p := startRooms(b, s, rooms, "encryption: {enabled: true}")
	time.Sleep(2 * time.Second) // settle after the first sync
	onRSS, err := rssKB(p.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}

	var encTimes, plainTimes []time.Duration
	for i := range n + 20 {
		et, err := timedDecryptedPing(ctx, s.human, enc)
		if err != nil {
			b.Fatalf("encrypted round trip %d: %v", i, err)
		}
		pt, err := roundTripSaying(ctx, s.human, plain, "!ping")
		if err != nil {
			b.Fatalf("plain round trip %d: %v", i, err)
		}
		if i >= 20 {
			encTimes, plainTimes = append(encTimes, et), append(plainTimes, pt)
		}
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(encTimes, 0.5)), "encrypted-p50-ms")
	b.ReportMetric(ms(percentile(encTimes, 0.99)), "encrypted-p99-ms")
	b.ReportMetric(ms(percentile(plainTimes, 0.5)), "plain-p50-ms")
	b.ReportMetric(ms(percentile(plainTimes, 0.99)), "plain-p99-ms")
	b.ReportMetric(ms(percentile(encTimes, 0.5))/ms(percentile(plainTimes, 0.5)), "p50-ratio")
	b.ReportMetric(float64(offRSS)/1024, "idle-rss-off-MB")
	b.ReportMetric(float64(onRSS)/1024, "idle-rss-on-MB")
	b.Logf("%d pings each: encrypted p50 %s p99 %s; plain p50 %s p99 %s; idle RSS encryption off %d kB, on %d kB",
		n, percentile(encTimes, 0.5), percentile(encTimes, 0.99), percentile(plainTimes, 0.5), percentile(plainTimes, 0.99), offRSS, onRSS)
}

// startRooms runs `ibbot run` serving rooms (a YAML list), with extra
// config, on a database of its own.
func startRooms(b *testing.B, s *stack, rooms, extra string) *botProcess {
	b.Helper()
	port := freeTCPPort(b)
	return launch(b, s, port, fmt.Sprintf(`matrix:
  homeserver: %s
  user_id: %q
  rooms: %s
  flood: {commands: 0}
database: %s
github: {api_url: %q}
prodhash: {svg_url: %q}
http: {listen: "127.0.0.1:%d"}
log: {level: info, format: json}
%s
`, s.hs.URL, s.botUser.UserID, rooms, b.TempDir()+"/ibbot.db", s.github.URL, s.github.DiagramURL(), port, extra))
}

// idleRSS starts a bot with extra config, reads its memory once it is
// idle, and stops it.
func idleRSS(b *testing.B, s *stack, rooms, extra string) int {
	b.Helper()
	p := startRooms(b, s, rooms, extra)
	time.Sleep(2 * time.Second)
	rss, err := rssKB(p.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	p.cmd.Process.Kill()
	<-p.exited
	return rss
}

// timedDecryptedPing is roundTripSaying for an encrypted room: the answer
// counts once decrypted.
func timedDecryptedPing(ctx context.Context, u *testenv.User, room id.RoomID) (time.Duration, error) {
	start := time.Now()
	evt, err := u.Say(ctx, room, "!ping")
	if err != nil {
		return 0, err
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if _, err := u.WaitFor(wctx, decryptedReplyTo(evt)); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}
