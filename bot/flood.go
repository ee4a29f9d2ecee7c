package bot

import (
	"time"

	"maunium.net/go/mautrix/id"
)

type floodVerdict int

const (
	floodAllow floodVerdict = iota
	floodWarn               // over the limit: say so once
	floodQuiet              // still over the limit: stay quiet
)

// floodLimiter allows each user a number of commands per fixed window. It is
// used from one goroutine only.
type floodLimiter struct {
	limit  int // 0: no limit
	window time.Duration
	users  map[id.UserID]*floodWindow
}

type floodWindow struct {
	start  time.Time
	count  int
	warned bool
}

func newFloodLimiter(limit int, window time.Duration) *floodLimiter {
	return &floodLimiter{limit: limit, window: window, users: make(map[id.UserID]*floodWindow)}
}

func (f *floodLimiter) allow(user id.UserID, now time.Time) floodVerdict {
	if f.limit <= 0 {
		return floodAllow
	}
	w := f.users[user]
	if w == nil || now.Sub(w.start) >= f.window {
		f.forgetExpired(now)
		w = &floodWindow{start: now}
		f.users[user] = w
	}
	w.count++
	switch {
	case w.count <= f.limit:
		return floodAllow
	case !w.warned:
		w.warned = true
		return floodWarn
	default:
		return floodQuiet
	}
}

func (f *floodLimiter) retryIn(user id.UserID, now time.Time) time.Duration {
	if w := f.users[user]; w != nil {
		return max(0, w.start.Add(f.window).Sub(now))
	}
	return 0
}

// forgetExpired keeps the map from growing with every user ever seen.
func (f *floodLimiter) forgetExpired(now time.Time) {
	for u, w := range f.users {
		if now.Sub(w.start) >= f.window {
			delete(f.users, u)
		}
	}
}
