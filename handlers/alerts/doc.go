// Package alerts is the alerting source: Alertmanager's webhook receiver.
//
// It is laid out as every source is (see package handlers):
//
//   - route.go: which rooms get a group: the config's routes (label
//     matchers) declared to internal/roomscope, which lays the rooms'
//     mutes over them and moves them with an upgraded room;
//   - payload.go, webhook.go: ingest: Alertmanager's version 4
//     notification, bounded and parsed, refused without the bearer token
//     before its body is read, recorded once before it is answered;
//   - relay.go: state and announcing: one message per group key, edited
//     as its alerts fire and resolve, a thread line per change, a resend
//     no change;
//   - render.go: its messages;
//   - commands.go: !alerts, and a room admin's !alerts mute|unmute.
package alerts
