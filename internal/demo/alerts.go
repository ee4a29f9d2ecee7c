package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/osbuild/ibbot/internal/testenv"
)

// demoAlertsToken is the bearer token the demo's Alertmanager notification
// carries.
const demoAlertsToken = "demo-alerts-token"

// showAlert posts an Alertmanager notification to the bot's receiver, as
// an Alertmanager with ibbot as its webhook receiver does; the room gets
// the group's message.
func showAlert(ctx context.Context, out io.Writer, human *testenv.User, url string) error {
	fmt.Fprintln(out, "(Alertmanager notifies the bot: composer's API answers slowly)")
	body := fmt.Sprintf(`{"version":"4","groupKey":"{}:{alertname=\"ComposerSlow\"}","status":"firing","receiver":"ibbot",
"groupLabels":{"alertname":"ComposerSlow"},"commonLabels":{"alertname":"ComposerSlow","severity":"warning"},
"commonAnnotations":{"summary":"composer's API answers slowly"},"externalURL":"http://alertmanager.example:9093",
"alerts":[{"status":"firing","labels":{"alertname":"ComposerSlow","severity":"warning","instance":"composer-1"},
"annotations":{"summary":"composer's API answers slowly","description":"p99 latency above 2s for 10m","runbook_url":"https://runbooks.example.org/composer-slow"},
"startsAt":%q,"endsAt":"0001-01-01T00:00:00Z","fingerprint":"c0ffee"}]}`, time.Now().Add(-12*time.Minute).UTC().Format(time.RFC3339))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader([]byte(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+demoAlertsToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the alerts receiver answered %s", resp.Status)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	msg, err := human.WaitFor(wctx, func(e *event.Event) bool { return strings.HasPrefix(testenv.Body(e), "🔥 ComposerSlow") })
	if err != nil {
		return fmt.Errorf("no alert message: %w", err)
	}
	fmt.Fprintf(out, "%s: %s\n\n", msg.Sender.Localpart(), indentBody(msg))
	return nil
}
