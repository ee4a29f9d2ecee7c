package alerts

import (
	"strings"
	"testing"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/golden"
)

const firing = `{"version":"4","groupKey":"{}:{alertname=\"ComposerDown\"}","truncatedAlerts":0,"status":"firing","receiver":"ibbot",
"groupLabels":{"alertname":"ComposerDown"},"commonLabels":{"alertname":"ComposerDown","severity":"critical"},
"commonAnnotations":{"summary":"composer is down"},"externalURL":"http://alertmanager.example:9093",
"alerts":[{"status":"firing","labels":{"alertname":"ComposerDown","severity":"critical","instance":"composer-1"},
"annotations":{"summary":"composer is down","description":"No answer for 5m","runbook_url":"https://runbooks.example/composer"},
"startsAt":"2026-12-05T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus.example/graph","fingerprint":"a1b2c3"}]}`

func TestParseReadsAGroup(t *testing.T) {
	g, err := Parse([]byte(firing))
	if err != nil {
		t.Fatal(err)
	}
	if g.GroupKey == "" || len(g.Alerts) != 1 || g.Alerts[0].Annotations["runbook_url"] == "" || g.CommonLabels["severity"] != "critical" {
		t.Errorf("group %+v", g)
	}
}

func TestParseRefusesWhatIsNotANotification(t *testing.T) {
	for name, body := range map[string]string{
		"not json":   "{",
		"version 3":  strings.Replace(firing, `"version":"4"`, `"version":"3"`, 1),
		"no key":     strings.Replace(firing, `"groupKey":"{}:{alertname=\"ComposerDown\"}"`, `"groupKey":""`, 1),
		"bad status": strings.Replace(firing, `"status":"firing","receiver"`, `"status":"burning","receiver"`, 1),
	} {
		if _, err := Parse([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(firing))
	f.Add([]byte(`{"version":"4","groupKey":"k","status":"resolved","alerts":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		g, err := Parse(body)
		if err != nil {
			return
		}
		if g.GroupKey == "" || len(g.Alerts) > maxAlerts || (g.Status != "firing" && g.Status != "resolved") {
			t.Fatalf("accepted %+v", g)
		}
	})
}

func TestRenderGolden(t *testing.T) {
	g, err := Parse([]byte(firing))
	if err != nil {
		t.Fatal(err)
	}
	render := func(r bot.Reply) string { return "plain:\n" + r.Plain + "\n\nhtml:\n" + r.HTML + "\n" }
	golden.Check(t, "firing.golden", render(Render(g)))
	g.Status, g.Alerts[0].Status = "resolved", "resolved"
	golden.Check(t, "resolved.golden", render(Render(g)))
}
