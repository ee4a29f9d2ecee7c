package config

// The alerts: section: Alertmanager's webhook receiver.

import "fmt"

// Alerts configures the Alertmanager receiver.
type Alerts struct {
	Webhook AlertsWebhook `yaml:"webhook"`
	Routes  []AlertRoute  `yaml:"routes"`
}

// AlertsWebhook is where Alertmanager posts, on the operations listener
// (http.listen), with the bearer token Alertmanager's
// http_config.authorization sends.
type AlertsWebhook struct {
	Path    string `yaml:"path"` // "": no receiver
	Token   Secret `yaml:"token"`
	MaxBody int    `yaml:"max_body"`
}

// AlertRoute sends the groups whose common labels match to rooms.
type AlertRoute struct {
	Rooms   []string          `yaml:"rooms"`
	Match   map[string]string `yaml:"match"`   // every label equal (a|b: either)
	Exclude map[string]string `yaml:"exclude"` // none of these
}

func (c *Config) checkAlerts(ch *checker) {
	a := &c.Alerts
	if a.Webhook.Path == "" {
		if len(a.Routes) > 0 {
			ch.bad("alerts.webhook.path", "routes are set but no path: Alertmanager has nowhere to post")
		}
		return
	}
	if a.Webhook.Path[0] != '/' {
		ch.bad("alerts.webhook.path", "%q must start with /", a.Webhook.Path)
	}
	if a.Webhook.Path == c.GitHub.Webhook.Path {
		ch.bad("alerts.webhook.path", "is github.webhook.path too")
	}
	if a.Webhook.Token.Value() == "" {
		ch.bad("alerts.webhook.token", "is required (IBBOT_ALERTS_TOKEN): the bearer token Alertmanager's http_config.authorization sends")
	}
	if c.HTTP.Listen == "" {
		ch.bad("alerts.webhook.path", "needs http.listen, the listener it is served on")
	}
	ch.ints("alerts.webhook.max_body", a.Webhook.MaxBody, 0, 16<<20, "the default (1 MiB)")
	if len(a.Routes) == 0 {
		ch.bad("alerts.routes", "name at least one room for the alerts")
	}
	for i, r := range a.Routes {
		ch.rooms(fmt.Sprintf("alerts.routes[%d].rooms", i), r.Rooms, true)
	}
}
