package prodhash

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/osbuild/ibbot/internal/catalog"
)

// Deployment is what ibbot says about a component in production.
type Deployment struct {
	Found
	CheckedAt   time.Time // when the source was last read successfully
	Stale       bool      // the source failed; this is the last good value
	StaleReason string
}

// Service picks each component's source and remembers the last good
// answer, so a failing source yields the last value marked stale instead
// of nothing.
type Service struct {
	sources  map[string]Source // by component id
	fallback Source            // for components without their own
	now      func() time.Time

	mu   sync.Mutex
	last map[string]Deployment
}

// NewService uses sources for the components they name and fallback for
// the rest.
func NewService(fallback Source, sources map[string]Source, now func() time.Time) *Service {
	return &Service{sources: sources, fallback: fallback, now: now, last: map[string]Deployment{}}
}

// Get returns the component's production commit. ErrNoHash passes through
// (with what the source knows); other failures fall back to the last good
// value, marked stale.
func (s *Service) Get(ctx context.Context, comp *catalog.Component) (Deployment, error) {
	src := s.fallback
	if own, ok := s.sources[comp.ID]; ok {
		src = own
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	found, err := src.Lookup(ctx, comp)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		d := Deployment{Found: found, CheckedAt: s.now()}
		s.last[comp.ID] = d
		return d, nil
	}
	if errors.Is(err, ErrNoHash) {
		return Deployment{Found: found, CheckedAt: s.now()}, err
	}
	if prev, ok := s.last[comp.ID]; ok {
		prev.Stale, prev.StaleReason = true, err.Error()
		return prev, nil
	}
	return Deployment{}, err
}
