package config

// The incidents: section: a Statuspage page followed.

import "time"

// Incidents configures the Statuspage page followed.
type Incidents struct {
	Statuspage   string        `yaml:"statuspage"` // the page's address, e.g. https://status.redhat.com; "": none
	Components   []string      `yaml:"components"` // names; none: all
	Rooms        []string      `yaml:"rooms"`
	PollInterval time.Duration `yaml:"poll_interval"`
}

func (c *Config) checkIncidents(ch *checker) {
	in := &c.Incidents
	if in.Statuspage == "" {
		if len(in.Rooms) > 0 || len(in.Components) > 0 {
			ch.bad("incidents.statuspage", "rooms or components are set but no page: name the Statuspage page, like https://status.redhat.com")
		}
		return
	}
	if !isHTTPURL(in.Statuspage) {
		ch.bad("incidents.statuspage", "%q is not an http(s) URL: the Statuspage page's address, like https://status.redhat.com", in.Statuspage)
	}
	ch.rooms("incidents.rooms", in.Rooms, true)
	ch.durations("incidents.poll_interval", in.PollInterval, 30*time.Second, 24*time.Hour, "")
	for i, name := range in.Components {
		if name == "" {
			ch.bad("incidents.components", "entry %d is empty: name a component as the page names it", i)
		}
	}
}
