// Package incidents is the incidents source: a Statuspage page (such as
// status.redhat.com) read through its public v2 API, for the components
// the operator follows.
//
// It is laid out as every source is (see package handlers):
//
//   - route.go: which rooms hear of the page (the config's, declared to
//     internal/roomscope, with the rooms' mutes) and which incidents
//     concern them (the components followed);
//   - statuspage.go, feed.go: ingest: the API's incidents, maintenances
//     and summary, bounded and parsed, read with conditional requests;
//   - watcher.go, now.go: state and announcing: one message per incident,
//     a thread line per update, an edit when it changes or resolves; a
//     maintenance announced when scheduled, reminded at its start and
//     closed when completed; the first look silent; what the page shows
//     now kept for !incidents and the status page;
//   - render.go: its messages;
//   - commands.go: !incidents, and a room admin's !incidents mute|unmute.
package incidents
