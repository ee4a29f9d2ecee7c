package config

// The mail: section (the list, the IMAP mailbox and its login) and its checks.

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/mail"
	"os"
	"strings"
	"time"
)

// Mail configures the mailing-list relay. Empty imap.address turns it off.
type Mail struct {
	IMAP IMAP `yaml:"imap"`
	// SMTP sends mail (meeting minutes, replies to the list); empty
	// address: ibbot sends none.
	SMTP SMTP `yaml:"smtp"`
	// ChatReplies lets people answer list threads from chat (!ml reply).
	ChatReplies ChatReplies `yaml:"chat_replies"`
	ListID      []string    `yaml:"list_id"` // accepted List-Ids (any of them), e.g. image-builder.lists.example.org
	// AllowedLists bound what rooms may subscribe to in chat (!ml
	// subscribe); empty: the lists of list_id.
	AllowedLists []string `yaml:"allowed_lists"`
	Rooms        []string `yaml:"rooms"`
	Replies      Replies  `yaml:"replies"`
	// Backfill is how many existing mails to post on the very first start.
	Backfill int `yaml:"backfill"`
	// ArchiveURL is a link template for lists whose mail carries none
	// (Mailman 2): {msgid} and {hash} (HyperKitty's) are replaced.
	ArchiveURL   string `yaml:"archive_url"`
	MaxMailBytes int    `yaml:"max_mail_bytes"`
	ExcerptChars int    `yaml:"excerpt_chars"`
	// SpamHeader drops mail whose header of that name says yes
	// (e.g. X-Spam-Flag).
	SpamHeader string `yaml:"spam_header"`
}

// IMAP is the mailbox subscribed to the list.
type IMAP struct {
	Address string  `yaml:"address"` // host:port
	TLS     TLSMode `yaml:"tls"`
	// CAFile is a PEM file of extra CAs trusted for the IMAP server's
	// certificate (a company's private CA); the system roots stay trusted.
	CAFile       string        `yaml:"ca_file"`
	Username     string        `yaml:"username"`
	Auth         IMAPAuth      `yaml:"auth"`     // password (default) or oauth2
	Password     Secret        `yaml:"password"` // or env IBBOT_IMAP_PASSWORD
	OAuth2       OAuth2        `yaml:"oauth2"`
	Mailbox      string        `yaml:"mailbox"`
	PollInterval time.Duration `yaml:"poll_interval"` // when the server has no IDLE
	NoopInterval time.Duration `yaml:"noop_interval"` // watchdog: how often a live connection is proven
}

// SMTP is the server ibbot sends mail through, with the same login
// choices as the mailbox.
type SMTP struct {
	Address  string   `yaml:"address"` // host:port; "": no sending
	TLS      TLSMode  `yaml:"tls"`     // starttls (default), tls, or none (loopback only)
	CAFile   string   `yaml:"ca_file"`
	Username string   `yaml:"username"` // empty: no login (a relay on loopback)
	Auth     IMAPAuth `yaml:"auth"`     // password (default) or oauth2
	Password Secret   `yaml:"password"` // or env IBBOT_SMTP_PASSWORD
	// OAuth2 is the login through OAuth 2.0; with no token_url, the
	// mailbox's (mail.imap.oauth2): one account that reads and sends.
	OAuth2 OAuth2 `yaml:"oauth2"`
	From   string `yaml:"from"` // the sender: "ibbot <ibbot@example.org>"
}

// ChatReplies says who may answer the list from chat, and how much.
type ChatReplies struct {
	Allow    []string `yaml:"allow"`     // Matrix ids (@ana:fedora.im) or servers (fedora.im); none: nobody
	PerHour  int      `yaml:"per_hour"`  // replies (and address links) per person per hour
	MaxChars int      `yaml:"max_chars"` // the longest reply taken
	To       string   `yaml:"to"`        // the list's address, for mail that names none (List-Post)
}

// Allows reports whether user may answer the list from chat.
func (c ChatReplies) Allows(user string) bool {
	_, server, _ := strings.Cut(user, ":")
	for _, a := range c.Allow {
		if strings.EqualFold(a, user) || (!strings.HasPrefix(a, "@") && strings.EqualFold(a, server)) {
			return true
		}
	}
	return false
}

// SMTPOAuth2 is the OAuth 2.0 login the SMTP server takes.
func (m Mail) SMTPOAuth2() OAuth2 {
	if m.SMTP.OAuth2.TokenURL == "" {
		return m.IMAP.OAuth2
	}
	return m.SMTP.OAuth2
}

// OAuth2 is a mailbox login through OAuth 2.0 (Gmail, Microsoft 365): the
// bot trades the refresh token for access tokens and logs in with SASL.
type OAuth2 struct {
	TokenURL     string   `yaml:"token_url"`
	AuthURL      string   `yaml:"auth_url"` // for ibbot mail-login only
	ClientID     string   `yaml:"client_id"`
	ClientSecret Secret   `yaml:"client_secret"` // or env IBBOT_IMAP_OAUTH2_CLIENT_SECRET
	RefreshToken Secret   `yaml:"refresh_token"` // or env IBBOT_IMAP_OAUTH2_REFRESH_TOKEN
	Scopes       []string `yaml:"scopes"`
	Mechanism    SASLMech `yaml:"mechanism"` // xoauth2 (default) or oauthbearer
}

func (c *Config) checkMail(ch *checker) {
	c.checkSMTP(ch)
	m := &c.Mail
	if m.IMAP.Address == "" {
		return
	}
	host, _, err := net.SplitHostPort(m.IMAP.Address)
	if err != nil {
		ch.bad("mail.imap.address", "%q is not host:port", m.IMAP.Address)
	}
	oneOf(ch, "mail.imap.tls", m.IMAP.TLS, TLSImplicit, TLSStartTLS, TLSNone)
	if m.IMAP.TLS == TLSNone {
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			ch.bad("mail.imap.tls", "none is allowed on loopback only; %s would send the password in clear", host)
		}
	}
	if m.IMAP.CAFile != "" {
		if _, err := LoadCAFile(m.IMAP.CAFile); err != nil {
			ch.bad("mail.imap.ca_file", "%v", err)
		}
	}
	if m.IMAP.Username == "" {
		ch.bad("mail.imap.username", "is required")
	}
	oneOf(ch, "mail.imap.auth", m.IMAP.Auth, AuthPassword, AuthOAuth2)
	switch m.IMAP.Auth {
	case AuthPassword:
		if m.IMAP.Password.Value() == "" {
			ch.bad("mail.imap.password", "is required (or env IBBOT_IMAP_PASSWORD)")
		}
	case AuthOAuth2:
		checkOAuth2(ch, m.IMAP.OAuth2)
	}
	if m.IMAP.Mailbox == "" {
		ch.bad("mail.imap.mailbox", "is required (usually INBOX)")
	}
	ch.durations("mail.imap.poll_interval", m.IMAP.PollInterval, time.Second, 24*time.Hour, "")
	// RFC 2177: a server may drop a connection idle for 30 minutes.
	ch.durations("mail.imap.noop_interval", m.IMAP.NoopInterval, time.Second, 29*time.Minute, "")
	if len(m.ListID) == 0 {
		ch.bad("mail.list_id", "is required: the List-Id of the list to relay (other mail is ignored)")
	}
	ch.rooms("mail.rooms", m.Rooms, true)
	for i, l := range m.AllowedLists {
		if !strings.Contains(l, ".") || strings.ContainsAny(l, " <>@") {
			ch.bad(fmt.Sprintf("mail.allowed_lists[%d]", i), "%q is not a List-Id (like image-builder.lists.example.org)", l)
		}
	}
	oneOf(ch, "mail.replies", m.Replies, RepliesThread, RepliesCount, RepliesOff)
	ch.ints("mail.backfill", m.Backfill, 0, 1000, "none")
	ch.ints("mail.max_mail_bytes", m.MaxMailBytes, 4<<10, 100<<20, "")
	ch.ints("mail.excerpt_chars", m.ExcerptChars, 0, 4000, "no excerpt")
	if m.ArchiveURL != "" && !strings.Contains(m.ArchiveURL, "{msgid}") && !strings.Contains(m.ArchiveURL, "{hash}") {
		ch.bad("mail.archive_url", "%q names neither {msgid} nor {hash}: every mail would link to the same page", m.ArchiveURL)
	}
	if m.ArchiveURL != "" && !isHTTPURL(strings.NewReplacer("{msgid}", "x", "{hash}", "x").Replace(m.ArchiveURL)) {
		ch.bad("mail.archive_url", "%q is not an http(s) URL", m.ArchiveURL)
	}
}

func checkOAuth2(ch *checker, o OAuth2) {
	if !isHTTPURL(o.TokenURL) {
		ch.bad("mail.imap.oauth2.token_url", "is required with auth: oauth2: the provider's token endpoint, e.g. https://oauth2.googleapis.com/token")
	}
	if o.AuthURL != "" && !isHTTPURL(o.AuthURL) {
		ch.bad("mail.imap.oauth2.auth_url", "%q is not an http(s) URL", o.AuthURL)
	}
	if o.ClientID == "" {
		ch.bad("mail.imap.oauth2.client_id", "is required with auth: oauth2: the app's client id at the provider")
	}
	if o.RefreshToken.Value() == "" {
		ch.bad("mail.imap.oauth2.refresh_token", "is required with auth: oauth2 (or env IBBOT_IMAP_OAUTH2_REFRESH_TOKEN); `ibbot mail-login` gets one")
	}
	oneOf(ch, "mail.imap.oauth2.mechanism", o.Mechanism, MechXOAuth2, MechOAuthBearer)
}

// ChatLists are the lists rooms may subscribe to in chat:
// mail.allowed_lists, or by default mail.list_id.
func (m Mail) ChatLists() []string {
	if len(m.AllowedLists) > 0 {
		return m.AllowedLists
	}
	return m.ListID
}

// LoadCAFile reads a PEM file of CA certificates into the system's pool
// (so the usual roots stay trusted).
func LoadCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

func (c *Config) checkChatReplies(ch *checker) {
	r := c.Mail.ChatReplies
	if len(r.Allow) == 0 {
		return
	}
	if c.Mail.SMTP.Address == "" {
		ch.bad("mail.chat_replies.allow", "needs mail.smtp, the server replies are sent through")
	}
	for i, a := range r.Allow {
		local, server, ok := strings.Cut(a, ":")
		if (strings.HasPrefix(a, "@") && (!ok || len(local) < 2 || server == "")) || (!strings.HasPrefix(a, "@") && (ok || !strings.Contains(a, "."))) {
			ch.bad(fmt.Sprintf("mail.chat_replies.allow[%d]", i), "%q is neither a Matrix id (@name:server) nor a server (fedora.im)", a)
		}
	}
	ch.ints("mail.chat_replies.per_hour", r.PerHour, 1, 1000, "")
	ch.ints("mail.chat_replies.max_chars", r.MaxChars, 100, 100000, "")
	if r.To != "" {
		if _, err := mail.ParseAddress(r.To); err != nil {
			ch.bad("mail.chat_replies.to", "%q is not an address", r.To)
		}
	}
}

func (c *Config) checkSMTP(ch *checker) {
	c.checkChatReplies(ch)
	s := &c.Mail.SMTP
	if s.Address == "" {
		return
	}
	host, _, err := net.SplitHostPort(s.Address)
	if err != nil {
		ch.bad("mail.smtp.address", "%q is not host:port", s.Address)
	}
	oneOf(ch, "mail.smtp.tls", s.TLS, TLSStartTLS, TLSImplicit, TLSNone)
	if ip := net.ParseIP(host); s.TLS == TLSNone && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		ch.bad("mail.smtp.tls", "none is allowed on loopback only; %s would see the mail and the password in clear", host)
	}
	if s.CAFile != "" {
		if _, err := LoadCAFile(s.CAFile); err != nil {
			ch.bad("mail.smtp.ca_file", "%v", err)
		}
	}
	if s.Username != "" {
		oneOf(ch, "mail.smtp.auth", s.Auth, AuthPassword, AuthOAuth2)
		switch s.Auth {
		case AuthPassword:
			if s.Password.Value() == "" {
				ch.bad("mail.smtp.password", "is required with a username (or env IBBOT_SMTP_PASSWORD)")
			}
		case AuthOAuth2:
			if c.Mail.SMTPOAuth2().TokenURL == "" {
				ch.bad("mail.smtp.oauth2", "auth: oauth2 needs mail.smtp.oauth2, or mail.imap.oauth2 to share")
			}
		}
	}
	if addr, err := mail.ParseAddress(s.From); s.From == "" || err != nil {
		ch.bad("mail.smtp.from", "%q is not an address: the sender, like ibbot <ibbot@example.org>", s.From)
	} else if !strings.Contains(addr.Address, "@") {
		ch.bad("mail.smtp.from", "%q has no domain", s.From)
	}
}
