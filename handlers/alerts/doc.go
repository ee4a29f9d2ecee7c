// Package alerts is the alerting source: Alertmanager's webhook receiver.
// Work in progress on this branch (issue 21): so far the payload.
package alerts
