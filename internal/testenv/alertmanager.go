package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// AlertmanagerVersion is the Alertmanager release the alerts receiver is
// tested against; it is pinned in tools/alertmanager/go.mod.
const AlertmanagerVersion = "v0.28.1"

var alertmanagerTool = tool{name: "alertmanager", version: AlertmanagerVersion, env: "IBBOT_ALERTMANAGER_BIN",
	pkgs: []string{"github.com/prometheus/alertmanager/cmd/alertmanager"}}

// BuildAlertmanager returns a directory holding the alertmanager binary,
// built from tools/alertmanager once per version of its go.mod (as
// BuildDendrite). IBBOT_ALERTMANAGER_BIN names one instead.
func BuildAlertmanager(ctx context.Context) (string, error) { return buildTool(ctx, alertmanagerTool) }

// Alertmanager is a real Alertmanager on loopback, whose one receiver is
// a webhook.
type Alertmanager struct {
	URL string
	cmd *exec.Cmd
	dir string
}

// StartAlertmanager runs Alertmanager with one route, grouped by
// alertname, to a webhook receiver at receiver with the bearer token;
// group_wait 200ms, group_interval 1s and repeat_interval 3s so a test sees
// grouping, changes and repeats in seconds.
func StartAlertmanager(ctx context.Context, receiver, token string) (*Alertmanager, error) {
	bin, err := BuildAlertmanager(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ibbot-alertmanager-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`route:
  receiver: ibbot
  group_by: [alertname]
  group_wait: 200ms
  group_interval: 1s
  repeat_interval: 3s
receivers:
  - name: ibbot
    webhook_configs:
      - url: %q
        send_resolved: true
        http_config:
          authorization: {type: Bearer, credentials: %q}
`, receiver, token)
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	am := &Alertmanager{URL: fmt.Sprintf("http://127.0.0.1:%d", port), dir: dir}
	am.cmd = exec.Command(filepath.Join(bin, "alertmanager"), "--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "data"), fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--cluster.listen-address=", "--log.level=warn")
	log, err := os.Create(filepath.Join(dir, "alertmanager.log"))
	if err != nil {
		return nil, err
	}
	am.cmd.Stdout, am.cmd.Stderr = log, log
	if err := am.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(am.URL + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return am, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	am.Stop()
	return nil, fmt.Errorf("Alertmanager did not get ready; see %s", filepath.Join(dir, "alertmanager.log"))
}

// Fire posts alerts to Alertmanager's API, as Prometheus does; an alert
// whose endsAt has passed is resolved.
func (am *Alertmanager) Fire(ctx context.Context, alerts ...map[string]any) error {
	body, err := json.Marshal(alerts)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, am.URL+"/api/v2/alerts", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("posting alerts: %s", resp.Status)
	}
	return nil
}

// Stop ends Alertmanager and removes its files.
func (am *Alertmanager) Stop() {
	if am.cmd != nil && am.cmd.Process != nil {
		am.cmd.Process.Kill()
		am.cmd.Wait()
	}
	os.RemoveAll(am.dir)
}
