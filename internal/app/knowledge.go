package app

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/handlers"
	"github.com/osbuild/ibbot/handlers/deploys"
	ghrelay "github.com/osbuild/ibbot/handlers/github"
	"github.com/osbuild/ibbot/internal/catalog"
	"github.com/osbuild/ibbot/internal/ghclient"
	"github.com/osbuild/ibbot/internal/httpcache"
	"github.com/osbuild/ibbot/internal/newcomers"
	"github.com/osbuild/ibbot/internal/prodhash"
)

// knowledge is what the knowledge commands and deploy announcements
// share, and the GitHub client everything shares.
type knowledge struct {
	handlers.Knowledge
	History deploys.History      // the deploys seen, for !deploys and the status page
	Pulls   deploys.PullRequests // for !deployed
	github  *github.Client
}

// Check finds what the config alone cannot tell: a catalogue file that does
// not load, a production-hash source for a component the catalogue lacks.
// `ibbot check-config` runs it too, so it refuses whatever `run` would.
func Check(cfg *config.Config) error {
	_, err := loadCatalog(cfg)
	return err
}

func loadCatalog(cfg *config.Config) (*catalog.Catalog, error) {
	cat, err := catalog.Load(cfg.Catalog.File, cfg.Catalog.Replace)
	if err != nil {
		return nil, &config.KeyError{Key: "catalog.file", Msg: err.Error()}
	}
	var errs []error
	for id := range cfg.ProdHash.Sources {
		if _, ok := cat.Find(id); !ok {
			errs = append(errs, &config.KeyError{Key: "prodhash.sources." + id,
				Msg: fmt.Sprintf("the catalogue has no component %q (try one of %s)", id, componentIDs(cat))})
		}
	}
	return cat, errors.Join(errs...)
}

func componentIDs(cat *catalog.Catalog) string {
	var ids []string
	for _, c := range cat.Services() {
		ids = append(ids, c.ID)
	}
	return strings.Join(ids, ", ")
}

func newKnowledge(cfg *config.Config, history deploys.History, now func() time.Time, reg prometheus.Registerer) (*knowledge, error) {
	cat, err := loadCatalog(cfg)
	if err != nil {
		return nil, err
	}
	// The cache holds a whole polling cycle besides the commands' answers
	// (the scale benchmark found 300 repositories thrashing a fixed 512).
	polled := len(cfg.GitHub.PolledRepos())
	gh, err := ghclient.New(ghclient.Options{Token: cfg.GitHub.Token.Value(), BaseURL: cfg.GitHub.APIURL, Metrics: reg,
		CacheEntries: 512 + ghrelay.CacheEntriesFor(polled)})
	if err != nil {
		return nil, err
	}
	// One conditional-request cache for every document the sources read.
	web := &http.Client{Timeout: 20 * time.Second, Transport: httpcache.New(nil, 32)}
	p := cfg.ProdHash
	diagram := prodhash.NewDiagramSource(p.SVGURL, cat, gh, web, p.CacheTTL, now)
	sources := map[string]prodhash.Source{}
	for id, src := range p.Sources {
		switch src.Type {
		case config.SourceJSON:
			header := http.Header{}
			if src.AuthHeader != "" {
				header.Set(src.AuthHeader, src.AuthValue.Value())
			}
			sources[id] = prodhash.NewJSONSource(src.URL, src.Field, header, web, p.CacheTTL, now)
		case config.SourceStatic:
			sources[id] = prodhash.StaticSource{SHA: src.SHA}
		}
	}
	var finder handlers.IssueFinder
	if c := cfg.Contribute; len(c.Labels) > 0 && c.MaxIssues > 0 {
		finder = newcomers.New(gh, c.Labels, c.MaxIssues, c.CacheTTL, now)
	}
	return &knowledge{github: gh, Knowledge: handlers.Knowledge{
		Catalog: cat, Diagram: diagram, Newcomers: finder,
		Deployments: prodhash.NewService(diagram, sources, now), Comparisons: prodhash.NewComparer(gh, p.CacheTTL, now),
		NewcomerIn: cfg.Contribute.Repos, MailingList: cfg.Contact.MailingList, PageURL: cfg.Status.PublicURL,
	}, Pulls: gh.PullRequests, History: history}, nil
}

// startDeploys runs the deploy announcements when they are on.
func startDeploys(s *services, cfg config.ProdHash, k *knowledge) {
	// Without rooms the checks still run: a room may turn announcements
	// on in chat (!deploys on), and the history serves !deploys.
	if cfg.CheckInterval <= 0 {
		return
	}
	w := &deploys.Watcher{
		Catalog: k.Catalog, Deploys: k.Deployments, Compare: k.Comparisons, Store: s.store, History: s.store, Poster: s.bot,
		RoomsNow: deploys.Rooms(s.settings, cfg.Rooms),
		Interval: cfg.CheckInterval, MaxChanges: cfg.MaxChanges,
		Log: s.log.With().Str("component", "deploys").Logger(), Now: s.now,
	}
	s.board.Add(w)
	s.afterReady(w.Run)
}
