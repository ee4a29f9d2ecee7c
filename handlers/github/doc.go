// Package github is the GitHub source: it relays issues, pull requests,
// releases, CI, discussions and reviews of osbuild's repositories into
// rooms, from webhooks and from polling, with the filters people ask every
// such integration for, and answers issue links in chat.
//
// It is laid out as every source is (see package handlers):
//
//   - route.go: what it delivers and to which rooms (its roomscope.Source:
//     the config's rules, rooms' subscriptions and mutes), and which
//     repositories the operator allows;
//   - webhook.go, poller.go: ingest; both record what arrives as a
//     delivery before anything is announced;
//   - relay.go, window.go: state and announcing: the queue of deliveries,
//     the item state, the aggregation window;
//   - issue.go, release.go, comment.go, ci.go, discussion.go, review.go,
//     digest.go: one file per kind of item, with its decoding, its
//     transitions and its rendering; item.go the item they share;
//   - render.go: what the kinds' messages share;
//   - commands.go: !gh and !issue (a Request in, a Reply out); links.go
//     the link previews (a listener);
//   - index.go, backfill.go: the issues' and pull requests' text for the
//     search, from each change and, once per repository, from the API;
//   - queue.go: the review queue (outside contributors' pull requests,
//     the digest, !reviews, the first-review figures), told every change;
//   - person.go, act.go: GitHub as yourself (the device flow, the sealed
//     tokens, and !gh comment, label, close, reopen, assign, issue);
//   - needs.go: what it needs of the store and the bot, as interfaces.
package github
