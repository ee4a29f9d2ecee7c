package github

import (
	"context"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/store"
)

// What the GitHub source needs of the store and of the bot, each as small
// as the part that uses it.

// Store is what the relay keeps between runs: the deliveries it works
// through (from the webhook and the poller), what it knows of each item,
// and the bot pull requests waiting for a digest.
type Store interface {
	DeliveryQueue
	ItemStore
	DigestStore
}

// DeliveryQueue holds recorded deliveries until the relay is done with them.
type DeliveryQueue interface {
	PendingDeliveries(ctx context.Context, limit int) ([]store.Delivery, error)
	DeliveryDone(ctx context.Context, id string) error
	PruneDeliveries(ctx context.Context, cutoff time.Time) (int64, error)
}

// ItemStore keeps the relay's state of each issue, pull request and release.
type ItemStore interface {
	Item(ctx context.Context, key string) (store.ItemRow, bool, error)
	PutItem(ctx context.Context, key string, r store.ItemRow, at time.Time) error
	DueItems(ctx context.Context, now time.Time) ([]string, error)
}

// DigestStore keeps bot pull requests until their digest is posted.
type DigestStore interface {
	AddDigest(ctx context.Context, e store.DigestEntry) error
	Digests(ctx context.Context) ([]store.DigestEntry, error)
	DropDigest(ctx context.Context, room string, keys []string) error
}

// Recorder records a delivery durably for the relay; it reports whether
// the delivery is new (GitHub's redeliveries and repeated polls are not).
type Recorder interface {
	SaveDelivery(ctx context.Context, d store.Delivery, at time.Time) (bool, error)
}

// Poster sends the relay's messages; every one has a key that makes it
// idempotent, so a replay after a crash posts nothing twice.
type Poster interface {
	Post(ctx context.Context, key, room string, r bot.Reply) error
	PostRoot(ctx context.Context, key, room string, r bot.Reply) error
	Edit(ctx context.Context, key, room, targetKey string, r bot.Reply) error
	PostInThread(ctx context.Context, key, room, rootKey string, r bot.Reply) error
	Posted(ctx context.Context, key string) (bool, error)
}

// OwnComments is where Acting marks the comments people made from chat.
type OwnComments interface {
	Get(ctx context.Context, key string) (string, bool, error)
}
