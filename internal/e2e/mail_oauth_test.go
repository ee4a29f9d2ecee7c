package e2e

import (
	"strings"
	"testing"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/testenv"
)

// oauthStack is a Dovecot that takes OAuth 2.0 logins, checked at a test
// provider, and a bot configured to log in with a refresh token.
func oauthStack(t *testing.T, mech config.SASLMech) (*stack, *testenv.Dovecot, *testenv.OAuthProvider, *config.Config) {
	t.Helper()
	p := testenv.NewOAuthProvider("ibbot")
	t.Cleanup(p.Close)
	d := startDovecot(t, func() (*testenv.Dovecot, error) { return testenv.StartDovecotOAuth2(p.IntrospectionURL()) })
	s := newStack(t)
	cfg := s.config(s.hs.URL)
	cfg.Mail = mailConfig(d, s.room.String())
	cfg.Mail.IMAP.Auth, cfg.Mail.IMAP.Password = config.AuthOAuth2, config.NewSecret("")
	cfg.Mail.IMAP.OAuth2 = config.OAuth2{TokenURL: p.TokenURL(), ClientID: "ibbot-test",
		ClientSecret: config.NewSecret("client-secret"), RefreshToken: config.NewSecret(testenv.FirstRefreshToken), Mechanism: mech}
	return s, d, p, cfg
}

// TestMailOverOAuth2: with auth: oauth2 the bot trades the refresh token
// for an access token and logs in with XOAUTH2 or OAUTHBEARER; after the
// access token expires and the server restarts, it refreshes and relays
// the next mail; !status says how it is logged in, never the token.
func TestMailOverOAuth2(t *testing.T) {
	for _, mech := range []config.SASLMech{config.MechXOAuth2, config.MechOAuthBearer} {
		t.Run(string(mech), func(t *testing.T) {
			s, d, p, cfg := oauthStack(t, mech)
			startBot(t, cfg)
			if err := d.Append(listMail("oauth-1@example.com", "first over OAuth", "", mailList)); err != nil {
				t.Fatal(err)
			}
			s.human.MustWait(t, wait, "the first mail", threadRootAbout("first over OAuth"))
			status := s.waitStatus(t, "(OAuth 2.0; access token valid until")
			if strings.Contains(status, "access-token") || strings.Contains(status, "refresh-token") {
				t.Errorf("!status shows a token:\n%s", status)
			}

			p.ExpireAccessTokens()
			if err := d.Restart(); err != nil {
				t.Fatal(err)
			}
			if err := d.Append(listMail("oauth-2@example.com", "after the token expired", "", mailList)); err != nil {
				t.Fatal(err)
			}
			s.human.MustWait(t, wait, "the mail after a refresh", threadRootAbout("after the token expired"))
			if n := p.Refreshes(); n < 2 {
				t.Errorf("%d access tokens issued, want a refresh after the first expired", n)
			}
		})
	}
}

// TestRotatedRefreshTokenSurvivesARestart: a provider that rotates refresh
// tokens (revoking the old one) does not lock the bot out after a restart.
func TestRotatedRefreshTokenSurvivesARestart(t *testing.T) {
	s, d, p, cfg := oauthStack(t, config.MechXOAuth2)
	p.Rotate = true
	first := startBot(t, cfg)
	s.waitStatus(t, "(OAuth 2.0; access token valid until")
	first.stop()
	p.ExpireAccessTokens()
	startBot(t, cfg) // the config still names the first, now revoked, refresh token
	if err := d.Append(listMail("rotated@example.com", "after a rotation", "", mailList)); err != nil {
		t.Fatal(err)
	}
	s.human.MustWait(t, wait, "the mail after a restart", threadRootAbout("after a rotation"))
}

// TestRevokedRefreshTokenIsNamed: a refresh token the provider refuses
// gives a clear !status line, and the bot keeps answering.
func TestRevokedRefreshTokenIsNamed(t *testing.T) {
	s, _, p, cfg := oauthStack(t, config.MechXOAuth2)
	p.RevokeRefreshTokens()
	startBot(t, cfg)
	status := s.waitStatus(t, "refused the refresh token (invalid_grant)")
	if !strings.Contains(status, "ibbot mail-login") {
		t.Errorf("!status does not say how to fix it:\n%s", status)
	}
	s.settle(t) // still answering
}
