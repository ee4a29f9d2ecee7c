package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/testenv"
)

func needDovecotTLS(t *testing.T) *testenv.Dovecot {
	t.Helper()
	return startDovecot(t, testenv.StartDovecotTLS)
}

// TestMailOverTLS: the relay reads a mailbox over implicit TLS and over
// STARTTLS, trusting the server's private CA through mail.imap.ca_file.
func TestMailOverTLS(t *testing.T) {
	d := needDovecotTLS(t)
	for _, c := range []struct {
		name    string
		mode    config.TLSMode
		address string
	}{
		{"implicit TLS", config.TLSImplicit, d.TLSAddress},
		{"STARTTLS", config.TLSStartTLS, d.Address},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newStack(t)
			cfg := s.config(s.hs.URL)
			cfg.Mail = mailConfig(d, s.room.String())
			cfg.Mail.IMAP.TLS, cfg.Mail.IMAP.Address, cfg.Mail.IMAP.CAFile = c.mode, c.address, d.CA.CAFile
			startBot(t, cfg)
			subject := "over " + c.name
			if err := d.Append(listMail(strings.ReplaceAll(c.name, " ", "-")+"@example.com", subject, "", mailList)); err != nil {
				t.Fatal(err)
			}
			s.human.MustWait(t, wait, "the mail read over "+c.name, threadRootAbout(subject))
			s.waitStatus(t, "✓ mail: watching INBOX on "+c.address)
		})
	}
}

// TestUntrustedCertificateIsNamed: without the CA, the certificate does
// not verify; the bot keeps running (commands answered) and !status says
// what is wrong and what to do.
func TestUntrustedCertificateIsNamed(t *testing.T) {
	d := needDovecotTLS(t)
	s := newStack(t)
	cfg := s.config(s.hs.URL)
	cfg.Mail = mailConfig(d, s.room.String())
	cfg.Mail.IMAP.TLS, cfg.Mail.IMAP.Address = config.TLSImplicit, d.TLSAddress
	startBot(t, cfg)
	s.waitStatus(t, "not signed by a trusted CA")
	status := s.waitStatus(t, "mail.imap.ca_file")
	if !strings.Contains(status, "✗ mail: failing for") {
		t.Errorf("!status does not say the mail relay fails:\n%s", status)
	}
}

// TestStartTLSIsNeverSkipped: a server that does not offer STARTTLS is
// refused: the bot never logs in in plaintext, and !status says why.
func TestStartTLSIsNeverSkipped(t *testing.T) {
	d := needDovecot(t) // no TLS at all
	logins := func() int {
		log, _ := os.ReadFile(filepath.Join(d.Dir, "dovecot.log"))
		return strings.Count(string(log), "Login: user=<"+d.Username+">")
	}
	// Dovecot logs its own start-up probe's login a moment later.
	deadline := time.Now().Add(wait)
	for logins() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	before := logins()
	s := newStack(t)
	cfg := s.config(s.hs.URL)
	cfg.Mail = mailConfig(d, s.room.String())
	cfg.Mail.IMAP.TLS = config.TLSStartTLS
	startBot(t, cfg)
	s.waitStatus(t, "does not offer STARTTLS")
	if n := logins() - before; n != 0 {
		t.Errorf("the bot logged in %d times without TLS", n)
	}
}
