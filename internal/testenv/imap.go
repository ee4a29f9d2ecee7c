package testenv

import (
	"bytes"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// IMAPServer is a mailbox a test or the demo can append mail to: go-imap's
// in-process server on loopback, or a real Dovecot (see dovecot.go).
type IMAPServer struct {
	Address  string
	Username string
	Password string
	stop     func()
	memUser  *imapmemserver.User
}

// StartMemIMAP serves go-imap's in-memory server on a loopback port with
// one user and an INBOX.
func StartMemIMAP() (*IMAPServer, error) {
	mem := imapmemserver.New()
	user := imapmemserver.NewUser("ibbot", "imap-test-password")
	if err := user.Create("INBOX", nil); err != nil {
		return nil, err
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       discardLogger{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go srv.Serve(ln)
	return &IMAPServer{Address: ln.Addr().String(), Username: "ibbot", Password: "imap-test-password",
		stop: func() { srv.Close() }, memUser: user}, nil
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// Close stops the server.
func (s *IMAPServer) Close() { s.stop() }

// Append delivers raw mails to INBOX, as the list server would.
func (s *IMAPServer) Append(raws ...[]byte) error {
	c, err := imapclient.DialInsecure(s.Address, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Login(s.Username, s.Password).Wait(); err != nil {
		return err
	}
	for _, raw := range raws {
		cmd := c.Append("INBOX", int64(len(raw)), &imap.AppendOptions{Time: time.Now()})
		if _, err := cmd.Write(raw); err != nil {
			return err
		}
		if err := cmd.Close(); err != nil {
			return err
		}
		if _, err := cmd.Wait(); err != nil {
			return fmt.Errorf("append: %w", err)
		}
	}
	return c.Logout().Wait()
}

// ResetUIDValidity replaces INBOX by a copy under a new UIDVALIDITY, as
// servers do after a rebuild (in-memory server only).
func (s *IMAPServer) ResetUIDValidity(keep [][]byte) error {
	if s.memUser == nil {
		return fmt.Errorf("not an in-memory server")
	}
	if err := s.memUser.Delete("INBOX"); err != nil {
		return err
	}
	if err := s.memUser.Create("INBOX", nil); err != nil {
		return err
	}
	var buf [][]byte
	for _, k := range keep {
		buf = append(buf, bytes.Clone(k))
	}
	return s.Append(buf...)
}
