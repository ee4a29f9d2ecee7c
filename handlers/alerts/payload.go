package alerts

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Group is one Alertmanager webhook notification (payload version 4): an
// alert group as Alertmanager grouped it, sent again on every change and
// every repeat_interval.
type Group struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"` // firing, resolved
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
}

// Alert is one alert of a group.
type Alert struct {
	Status       string            `json:"status"` // firing, resolved
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// maxAlerts bounds the alerts of one group read from a payload; more are
// counted as truncated, as Alertmanager's own max_alerts does.
const maxAlerts = 200

// Parse reads a webhook body. It refuses what is not Alertmanager's
// version 4, and a group without a key (it could not be edited later).
func Parse(body []byte) (Group, error) {
	var g Group
	if err := json.Unmarshal(body, &g); err != nil {
		return Group{}, fmt.Errorf("not an Alertmanager notification: %w", err)
	}
	switch {
	case g.Version != "4":
		return Group{}, fmt.Errorf("Alertmanager notification version %q, want 4", g.Version)
	case g.GroupKey == "":
		return Group{}, errors.New("Alertmanager notification without a groupKey")
	case g.Status != "firing" && g.Status != "resolved":
		return Group{}, fmt.Errorf("Alertmanager notification with status %q", g.Status)
	}
	if len(g.Alerts) > maxAlerts {
		g.TruncatedAlerts += len(g.Alerts) - maxAlerts
		g.Alerts = g.Alerts[:maxAlerts]
	}
	return g, nil
}
