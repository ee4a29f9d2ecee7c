package config

// The github.reviews: section: the review queue's digest.

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Reviews configures the review queue: which rooms get the digest of
// outside pull requests waiting for a first review, and when.
type Reviews struct {
	Rooms    []string      `yaml:"rooms"`     // "": no digest (the queue is still kept for !reviews and the page)
	DigestAt string        `yaml:"digest_at"` // local time, "09:30"
	Timezone string        `yaml:"timezone"`  // IANA, e.g. Europe/Prague
	Weekdays []string      `yaml:"weekdays"`  // Mon … Sun; default Mon–Fri
	Wait     time.Duration `yaml:"wait"`      // how long without a review makes a pull request "waiting"
	Repos    []string      `yaml:"repos"`     // globs; default every repository followed
}

// weekdayNames are how the config names the days.
var weekdayNames = []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// Days are the digest's days.
func (r Reviews) Days() []time.Weekday {
	var out []time.Weekday
	for _, d := range r.Weekdays {
		if i := slices.IndexFunc(weekdayNames, func(n string) bool { return strings.EqualFold(n, d[:min(3, len(d))]) }); i >= 0 {
			out = append(out, time.Weekday(i))
		}
	}
	return out
}

// Clock is digest_at as hours and minutes.
func (r Reviews) Clock() (hour, minute int, ok bool) {
	t, err := time.Parse("15:04", r.DigestAt)
	if err != nil {
		return 0, 0, false
	}
	return t.Hour(), t.Minute(), true
}

func (c *Config) checkReviews(ch *checker) {
	r := c.GitHub.Reviews
	ch.durations("github.reviews.wait", r.Wait, time.Hour, 60*24*time.Hour, "")
	ch.repos("github.reviews.repos", r.Repos, true)
	if len(r.Rooms) == 0 {
		return
	}
	ch.rooms("github.reviews.rooms", r.Rooms, false)
	if _, _, ok := r.Clock(); !ok {
		ch.bad("github.reviews.digest_at", "%q is not a time of day like 09:30", r.DigestAt)
	}
	if _, err := time.LoadLocation(r.Timezone); err != nil || r.Timezone == "" {
		ch.bad("github.reviews.timezone", "%q is not a time zone like Europe/Prague (IANA's names)", r.Timezone)
	}
	for i, d := range r.Weekdays {
		if len(d) < 3 || !slices.ContainsFunc(weekdayNames, func(n string) bool { return strings.EqualFold(n, d[:3]) }) {
			ch.bad(fmt.Sprintf("github.reviews.weekdays[%d]", i), "%q is not a day: Mon, Tue, Wed, Thu, Fri, Sat or Sun", d)
		}
	}
}
