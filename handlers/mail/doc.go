// Package mail is the mailing-list source: it relays a Mailman list, read
// over IMAP, into rooms, one Matrix thread per mail thread, exactly once.
//
// It is laid out as every source is (see package handlers):
//
//   - route.go: which lists go to which rooms (its roomscope.Source: the
//     config's routes, rooms' subscriptions and mutes);
//   - watcher.go, connect.go, fetch.go: ingest: the IMAP connection, its
//     login (oauth.go; login.go the first OAuth 2.0 login from the CLI),
//     IDLE, and fetching new mail from the position last relayed;
//     parse.go, clean.go turn real list traffic (charsets, Mailman
//     footers, quotes, HTML-only mail) into a Mail;
//   - relay.go: state and announcing: threading, reply counts, what was
//     posted where;
//   - render.go: its messages;
//   - commands.go: !ml (a Request in, a Reply out).
package mail
