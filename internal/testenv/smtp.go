package testenv

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// MailingList is a loopback SMTP server (emersion/go-smtp's) standing in
// for a list server: a post to the list's address comes back, as Mailman
// sends it to its subscribers, with List-Id and List-Post added, through
// deliver (into the IMAP mailbox the bot reads: the echo is real).
// Every mail received is kept for the test to read.
type MailingList struct {
	Addr    string // host:port
	Address string // the list's posting address
	ListID  string

	srv     *smtp.Server
	deliver func(raw []byte) error
	user    string // "": no login asked
	pass    string

	mu       sync.Mutex
	received []ReceivedMail
}

// ReceivedMail is one mail the server took.
type ReceivedMail struct {
	From string
	To   []string
	Raw  []byte
}

// StartMailingList serves SMTP without TLS on loopback; with user set it
// asks for that login (AUTH PLAIN).
func StartMailingList(address, listID, user, pass string, deliver func(raw []byte) error) (*MailingList, error) {
	return startMailingList(address, listID, user, pass, deliver, nil)
}

// StartMailingListTLS is StartMailingList offering STARTTLS with ca's
// server certificate.
func StartMailingListTLS(address, listID, user, pass string, deliver func(raw []byte) error, ca *TestCA) (*MailingList, error) {
	cert, err := tls.LoadX509KeyPair(ca.CertFile, ca.KeyFile)
	if err != nil {
		return nil, err
	}
	return startMailingList(address, listID, user, pass, deliver, &tls.Config{Certificates: []tls.Certificate{cert}})
}

func startMailingList(address, listID, user, pass string, deliver func(raw []byte) error, tlsConfig *tls.Config) (*MailingList, error) {
	l := &MailingList{Address: address, ListID: listID, deliver: deliver, user: user, pass: pass}
	l.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &listSession{list: l}, nil }))
	l.srv.TLSConfig = tlsConfig
	l.srv.Domain = "lists.example.org"
	l.srv.AllowInsecureAuth = true // loopback, in a test
	l.srv.ReadTimeout, l.srv.WriteTimeout = 30*time.Second, 30*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l.Addr = ln.Addr().String()
	go l.srv.Serve(ln)
	return l, nil
}

// Close stops the server.
func (l *MailingList) Close() { l.srv.Close() }

// Received lists the mails the server took, in order.
func (l *MailingList) Received() []ReceivedMail {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]ReceivedMail(nil), l.received...)
}

type listSession struct {
	list   *MailingList
	authed bool
	from   string
	to     []string
}

func (s *listSession) AuthMechanisms() []string {
	if s.list.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *listSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.list.user || password != s.list.pass {
			return errors.New("invalid credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *listSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.list.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

// Rcpt takes the list's address, and any address elsewhere (as a relay
// would pass it on); another address at the list's domain is no list.
func (s *listSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	_, listDomain, _ := strings.Cut(s.list.Address, "@")
	if _, domain, _ := strings.Cut(to, "@"); !strings.EqualFold(to, s.list.Address) && strings.EqualFold(domain, listDomain) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such list: " + to}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *listSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.list.mu.Lock()
	s.list.received = append(s.list.received, ReceivedMail{From: s.from, To: s.to, Raw: raw})
	s.list.mu.Unlock()
	toList := slices.ContainsFunc(s.to, func(a string) bool { return strings.EqualFold(a, s.list.Address) })
	if s.list.deliver == nil || !toList {
		return nil
	}
	echo := fmt.Sprintf("List-Id: <%s>\r\nList-Post: <mailto:%s>\r\nPrecedence: list\r\n", s.list.ListID, s.list.Address)
	if err := s.list.deliver(append([]byte(echo), bytes.TrimLeft(raw, "\r\n")...)); err != nil {
		return &smtp.SMTPError{Code: 451, Message: "delivering to the subscribers failed: " + err.Error()}
	}
	return nil
}

func (s *listSession) Reset()        { s.from, s.to = "", nil }
func (s *listSession) Logout() error { return nil }
