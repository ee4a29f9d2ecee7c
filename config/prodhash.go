package config

// The prodhash:, catalog:, contribute: and contact: sections: what the bot knows of the service.

import (
	"strings"
	"time"
)

// Catalog lets an operator override or extend the component catalogue.
type Catalog struct {
	File    string `yaml:"file"`
	Replace bool   `yaml:"replace"`
}

// ProdHash configures where production commits come from and where deploy
// announcements go.
type ProdHash struct {
	SVGURL        string        `yaml:"svg_url"`
	CheckInterval time.Duration `yaml:"check_interval"` // 0 turns deploy announcements off
	CacheTTL      time.Duration `yaml:"cache_ttl"`
	Rooms         []string      `yaml:"rooms"`
	MaxChanges    int           `yaml:"max_changes"` // merged PR titles listed per announcement
	// Sources picks another source per component id: type json or static.
	Sources map[string]HashSource `yaml:"sources"`
}

// HashSource is a non-default production-hash source for one component.
type HashSource struct {
	Type         SourceType `yaml:"type"`
	URL          string     `yaml:"url"`
	Field        string     `yaml:"field"`
	AuthHeader   string     `yaml:"auth_header"`
	AuthValueEnv string     `yaml:"auth_value_env"` // the env variable holding the header's value
	SHA          string     `yaml:"sha"`
	// AuthValue is the header's value, read from AuthValueEnv at load.
	AuthValue Secret `yaml:"-"`
}

// Contribute configures !contribute's live list of newcomer issues.
type Contribute struct {
	Repos     []string      `yaml:"repos"`
	Labels    []string      `yaml:"labels"`
	MaxIssues int           `yaml:"max_issues"`
	CacheTTL  time.Duration `yaml:"cache_ttl"`
}

// Contact adds to !contact what only the operator knows.
type Contact struct {
	MailingList string `yaml:"mailing_list"` // shown only when set
}

func (c *Config) checkProdHash(ch *checker) {
	p := &c.ProdHash
	if !isHTTPURL(p.SVGURL) {
		ch.bad("prodhash.svg_url", "%q is not an http(s) URL", p.SVGURL)
	}
	ch.durations("prodhash.check_interval", p.CheckInterval, 10*time.Second, 24*time.Hour, "no deploy announcements")
	ch.durations("prodhash.cache_ttl", p.CacheTTL, time.Second, 24*time.Hour, "ask every time")
	ch.rooms("prodhash.rooms", p.Rooms, false)
	ch.ints("prodhash.max_changes", p.MaxChanges, 0, 50, "list none")
	for _, id := range sortedKeys(p.Sources) {
		src, key := p.Sources[id], "prodhash.sources."+id
		switch src.Type {
		case SourceJSON:
			if !isHTTPURL(src.URL) {
				ch.bad(key+".url", "%q is not an http(s) URL", src.URL)
			}
			if src.Field == "" {
				ch.bad(key+".field", "is required for a json source (e.g. src_hash)")
			}
			if (src.AuthHeader == "") != (src.AuthValueEnv == "") {
				ch.bad(key+".auth_value_env", "auth_header and auth_value_env go together")
			} else if src.AuthHeader != "" && src.AuthValue.Value() == "" {
				ch.bad(key+".auth_value_env", "the environment variable %s is not set (or empty)", src.AuthValueEnv)
			}
		case SourceStatic:
			if len(src.SHA) < 7 || strings.Trim(strings.ToLower(src.SHA), "0123456789abcdef") != "" {
				ch.bad(key+".sha", "%q is not a commit sha", src.SHA)
			}
		default:
			oneOf(ch, key+".type", src.Type, SourceJSON, SourceStatic)
		}
	}
}
