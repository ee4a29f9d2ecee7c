// Package skeleton is the shape a new source starts from: copy the folder
// to handlers/<source>, rename the package and the kind, and fill in. It
// is not wired into ibbot; its test shows, on a real database, what every
// source keeps to:
//
//   - route.go declares what the source delivers (its kind and the filter
//     a rule or a room's subscription takes) to internal/roomscope, which
//     lays the config's rules, the rooms' own subscriptions and their
//     mutes over each other and moves them when a room is upgraded;
//   - watcher.go is the ingest, the state and the announcing: a round on
//     internal/worker's loop (health for !status, backoff after a failed
//     round) reads the outside, skips what it announced before (the state
//     is in the store, so a restart or a failover announces nothing
//     twice) and posts with a key per item and room (so a post retried
//     after a crash is posted once);
//   - render.go is its messages, built with bot.Msg, which escapes every
//     outside string and never pings;
//   - commands.go is its chat commands: a Request in, a Reply out, thin
//     over the scope.
//
// The skeleton relays a feed: anything with an id, a target (what rooms
// follow, e.g. "status/fedora") and a title.
package skeleton
