// Package e2e holds ibbot's end-to-end tests and benchmarks: the real bot,
// started the way `ibbot run` starts it, against a real Dendrite on
// loopback, driven by real Matrix users.
package e2e
