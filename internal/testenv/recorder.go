package testenv

import (
	"context"
	"sync"

	"github.com/osbuild/ibbot/bot"
)

// Sent is one message a relay asked to post.
type Sent struct {
	Key, Room string
	Rel       string // "", "root", "edit" or "thread"
	Target    string // the key edited or threaded under
	Plain     string
}

// Recorder stands in for the bot where a relay's logic is tested alone: it
// keeps messages in memory and, like the bot's queue, ignores a key seen
// before.
type Recorder struct {
	mu   sync.Mutex
	msgs []Sent
	keys map[string]bool
}

func (r *Recorder) add(s Sent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys == nil {
		r.keys = map[string]bool{}
	}
	if !r.keys[s.Key] {
		r.keys[s.Key] = true
		r.msgs = append(r.msgs, s)
	}
	return nil
}

// Post records a message.
func (r *Recorder) Post(_ context.Context, key, room string, rep bot.Reply) error {
	return r.add(Sent{Key: key, Room: room, Plain: rep.Plain})
}

// PostRoot records a message later ones relate to.
func (r *Recorder) PostRoot(_ context.Context, key, room string, rep bot.Reply) error {
	return r.add(Sent{Key: key, Room: room, Rel: "root", Plain: rep.Plain})
}

// Edit records an edit of the message posted under target.
func (r *Recorder) Edit(_ context.Context, key, room, target string, rep bot.Reply) error {
	return r.add(Sent{Key: key, Room: room, Rel: "edit", Target: target, Plain: rep.Plain})
}

// PostInThread records a message in the thread of the one posted under root.
func (r *Recorder) PostInThread(_ context.Context, key, room, root string, rep bot.Reply) error {
	return r.add(Sent{Key: key, Room: room, Rel: "thread", Target: root, Plain: rep.Plain})
}

// Posted reports whether key was recorded.
func (r *Recorder) Posted(_ context.Context, key string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.keys[key], nil
}

// All returns the messages in order.
func (r *Recorder) All() []Sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Sent(nil), r.msgs...)
}
