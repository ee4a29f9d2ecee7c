// Package deploys is the deploy source: it tells rooms when a component's
// production commit changes, keeps the history of deploys, and answers
// !deploys and !deployed from it.
//
// It is laid out as every source is (see package handlers):
//
//   - route.go: which rooms get deploy announcements (the config's rooms,
//     with each room's !deploys on|off laid over them);
//   - watcher.go: ingest, state and announcing: each check reads the
//     production commits (internal/prodhash), compares them with the last
//     ones seen (kept in the store) and announces the changes;
//   - render.go: its messages;
//   - commands.go: !deploys and !deployed (a Request in, a Reply out).
package deploys
