package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// DovecotBinary is where Debian's dovecot-imapd installs the server.
const DovecotBinary = "/usr/sbin/dovecot"

// ErrNoDovecot means Dovecot is not installed (.ci/run installs it).
var ErrNoDovecot = errors.New("dovecot is not installed (apt-get install dovecot-imapd)")

// Dovecot is a real Dovecot IMAP server configured in a temporary
// directory: passwd-file auth, maildir, a loopback port, running as nobody.
type Dovecot struct {
	IMAPServer
	Dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
	// With TLS (StartDovecotTLS): Address offers STARTTLS, TLSAddress is
	// implicit TLS, and CA signed the server's certificate.
	TLSAddress string
	CA         *TestCA
	tlsPort    int
	// introspection, when set, adds an oauth2 passdb asking it
	// (StartDovecotOAuth2).
	introspection string
}

// StartDovecot writes a config and starts Dovecot in the foreground,
// without TLS (it does not offer STARTTLS).
func StartDovecot() (*Dovecot, error) {
	d, err := newDovecot()
	if err != nil {
		return nil, err
	}
	return d, d.startConfigured()
}

// StartDovecotTLS is StartDovecot with TLS: STARTTLS on Address, implicit
// TLS on TLSAddress, with a certificate for 127.0.0.1 from a CA of its own
// (d.CA.CAFile), as a company mail server has.
func StartDovecotTLS() (*Dovecot, error) {
	d, err := newDovecot()
	if err != nil {
		return nil, err
	}
	if d.tlsPort, err = freePort(); err != nil {
		return nil, err
	}
	d.TLSAddress = fmt.Sprintf("127.0.0.1:%d", d.tlsPort)
	if d.CA, err = NewTestCA(d.Dir); err != nil {
		return nil, err
	}
	return d, d.startConfigured()
}

// StartDovecotOAuth2 is StartDovecot that also accepts XOAUTH2 and
// OAUTHBEARER logins, checking each access token at introspectionURL.
func StartDovecotOAuth2(introspectionURL string) (*Dovecot, error) {
	d, err := newDovecot()
	if err != nil {
		return nil, err
	}
	d.introspection = introspectionURL
	return d, d.startConfigured()
}

func newDovecot() (*Dovecot, error) {
	if _, err := os.Stat(DovecotBinary); err != nil {
		return nil, ErrNoDovecot
	}
	dir, err := os.MkdirTemp("", "ibbot-dovecot-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	d := &Dovecot{Dir: dir, port: port}
	d.Address = fmt.Sprintf("127.0.0.1:%d", port)
	d.Username, d.Password = "ibbot", "dovecot-test-password"
	return d, nil
}

func (d *Dovecot) startConfigured() error {
	if err := d.writeConfig(); err != nil {
		return err
	}
	return d.Start()
}

func (d *Dovecot) writeConfig() error {
	mail := filepath.Join(d.Dir, "mail")
	for _, sub := range []string{"run", "state", "mail"} {
		if err := os.MkdirAll(filepath.Join(d.Dir, sub), 0o755); err != nil {
			return err
		}
	}
	// Dovecot drops to nobody for mail access.
	if err := os.Chmod(d.Dir, 0o755); err != nil {
		return err
	}
	if err := os.Chown(mail, 65534, 65534); err != nil {
		return err
	}
	passwd := fmt.Sprintf("%s:{PLAIN}%s::::::\n", d.Username, d.Password)
	if err := os.WriteFile(filepath.Join(d.Dir, "passwd"), []byte(passwd), 0o644); err != nil {
		return err
	}
	oauthMechs, oauthPassdb, passwdMechs := "", "", ""
	if d.introspection != "" {
		ext := filepath.Join(d.Dir, "dovecot-oauth2.conf.ext")
		settings := fmt.Sprintf("introspection_mode = post\nintrospection_url = %s\nusername_attribute = username\nactive_attribute = active\nactive_value = true\n", d.introspection)
		if err := os.WriteFile(ext, []byte(settings), 0o644); err != nil {
			return err
		}
		oauthMechs = " xoauth2 oauthbearer"
		passwdMechs = "  mechanisms = plain login\n"
		oauthPassdb = fmt.Sprintf("passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = %s\n}\n", ext)
	}
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = imap
listen = 127.0.0.1
%[4]s
disable_plaintext_auth = no
auth_mechanisms = plain login%[6]s
mail_location = maildir:%[2]s/%%u
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
first_valid_uid = 1
mail_uid = nobody
mail_gid = nogroup
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[3]d
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = %[5]d
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
passdb {
  driver = passwd-file
  args = %[1]s/passwd
%[8]s}
%[7]s
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=%[2]s/%%u
}
`, d.Dir, mail, d.port, d.sslSettings(), d.tlsPort, oauthMechs, oauthPassdb, passwdMechs)
	return os.WriteFile(filepath.Join(d.Dir, "dovecot.conf"), []byte(conf), 0o644)
}

func (d *Dovecot) sslSettings() string {
	if d.CA == nil {
		return "ssl = no"
	}
	return fmt.Sprintf("ssl = yes\nssl_cert = <%s\nssl_key = <%s", d.CA.CertFile, d.CA.KeyFile)
}

// Start runs Dovecot and waits until it accepts IMAP logins.
func (d *Dovecot) Start() error {
	d.cmd = exec.Command(DovecotBinary, "-F", "-c", filepath.Join(d.Dir, "dovecot.conf"))
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	out, _ := os.OpenFile(filepath.Join(d.Dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	d.cmd.Stdout, d.cmd.Stderr = out, out
	if err := d.cmd.Start(); err != nil {
		return err
	}
	d.done = make(chan struct{})
	go func() { d.cmd.Wait(); out.Close(); close(d.done) }()
	d.stop = d.Stop
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := d.Append(); err == nil { // logs in and out
			return nil
		}
		select {
		case <-d.done:
			log, _ := os.ReadFile(filepath.Join(d.Dir, "dovecot.log"))
			so, _ := os.ReadFile(filepath.Join(d.Dir, "stdout.log"))
			return fmt.Errorf("dovecot exited at start:\n%s%s", so, log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("dovecot did not accept logins within 20 s")
		}
	}
}

// Stop terminates Dovecot and waits for it.
func (d *Dovecot) Stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	stopGroup(d.cmd.Process.Pid, d.done)
}

// Restart stops and starts Dovecot on the same port and mail.
func (d *Dovecot) Restart() error {
	d.Stop()
	return d.Start()
}

// ResetUIDValidity makes Dovecot assign a new UIDVALIDITY to INBOX, as a
// rebuilt index does: it is stopped, its UID list removed, and started.
func (d *Dovecot) ResetUIDValidity() error {
	d.Stop()
	box := filepath.Join(d.Dir, "mail", d.Username)
	old, err := os.ReadFile(filepath.Join(box, "dovecot-uidlist"))
	if err != nil {
		return err
	}
	var version, validity int
	fmt.Sscanf(string(old), "%d V%d", &version, &validity)
	matches, _ := filepath.Glob(filepath.Join(box, "dovecot*"))
	for _, m := range matches {
		os.RemoveAll(m)
	}
	// A UID list with a new UIDVALIDITY and no entries: Dovecot numbers
	// every message anew.
	list := "3 V" + strconv.Itoa(validity+1000) + " N1\n"
	if err := os.WriteFile(filepath.Join(box, "dovecot-uidlist"), []byte(list), 0o600); err != nil {
		return err
	}
	os.Chown(filepath.Join(box, "dovecot-uidlist"), 65534, 65534)
	return d.Start()
}

// Cleanup stops Dovecot and removes its directory.
func (d *Dovecot) Cleanup() {
	d.Stop()
	os.RemoveAll(d.Dir)
}
