package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/osbuild/ibbot/bot/e2ee"
	"github.com/osbuild/ibbot/internal/testenv"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// ibbotBinary builds cmd/ibbot once per test run.
func ibbotBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ibbot-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ibbot")
		// With the tags the tests were built with: encryption too.
		tags := ""
		if e2ee.Available {
			tags = "goolm"
		}
		out, err := exec.Command("go", "build", "-tags", tags, "-o", binPath, "github.com/osbuild/ibbot/cmd/ibbot").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// syncBuffer is a log sink safe to read while the process writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// botProcess is `ibbot run` as an operator starts it.
type botProcess struct {
	cmd     *exec.Cmd
	logs    *syncBuffer
	httpURL string
	exited  chan error
}

func startProcess(t testing.TB, s *stack, logLevel string, extraYAML ...string) *botProcess {
	t.Helper()
	port := freeTCPPort(t)
	return launch(t, s, port, fmt.Sprintf(`matrix:
  homeserver: %s
  user_id: %q
  rooms: [%q]
  flood: {commands: 0}
database: %s
github: {api_url: %q}
prodhash: {svg_url: %q}
http:
  listen: 127.0.0.1:%d
log:
  level: %s
  format: json
%s`, s.hs.URL, s.botUser.UserID, s.room, s.dbPath, s.github.URL, s.github.DiagramURL(), port, logLevel, strings.Join(extraYAML, "\n")))
}

// launch runs `ibbot run` on conf, whose http.listen is on port, with the
// bot's password in the environment.
func launch(t testing.TB, s *stack, port int, conf string) *botProcess {
	t.Helper()
	return launchEnv(t, port, conf, "IBBOT_MATRIX_PASSWORD="+s.botUser.Password)
}

// writeConfig writes conf to a file of the test's and returns its path.
func writeConfig(t testing.TB, conf string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ibbot.yaml")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// launchEnv is launch with env added to the environment, and nothing else.
func launchEnv(t testing.TB, port int, conf string, env ...string) *botProcess {
	t.Helper()
	p := spawn(t, port, conf, env...)
	p.waitHTTP(t, "/readyz", http.StatusOK)
	return p
}

// spawn starts `ibbot run` on conf and returns at once.
func spawn(t testing.TB, port int, conf string, env ...string) *botProcess {
	t.Helper()
	path := writeConfig(t, conf)
	p := &botProcess{logs: &syncBuffer{}, httpURL: fmt.Sprintf("http://127.0.0.1:%d", port), exited: make(chan error, 1)}
	p.cmd = exec.Command(ibbotBinary(t), "run", "-config", path)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("ibbot logs:\n%s", p.logs.String())
		}
	})
	return p
}

func (p *botProcess) get(path string) (int, string) {
	resp, err := http.Get(p.httpURL + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (p *botProcess) waitHTTP(t testing.TB, path string, status int) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		if code, _ := p.get(path); code == status {
			return
		}
		select {
		case err := <-p.exited:
			t.Fatalf("ibbot exited early: %v\n%s", err, p.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered %d", path, status)
		}
	}
}

func freeTCPPort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestProcessLifecycle runs the real binary: it becomes ready, answers,
// exposes metrics, never logs its secrets, and exits 0 on SIGTERM.
func TestProcessLifecycle(t *testing.T) {
	s := newStack(t)
	p := startProcess(t, s, "debug")

	if code, body := p.get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d %s", code, body)
	}
	cmd := s.human.MustSay(t, s.room, "!ping")
	s.human.MustWait(t, wait, "answer from the process", testenv.ReplyTo(cmd))

	// The room can see the answer a moment before the sender has taken
	// it off the queue, so the metrics get a few seconds to agree.
	wants := []string{
		`ibbot_commands_total{command="ping",outcome="ok"} 1`,
		"ibbot_outgoing_queue_depth 0",
		"ibbot_sync_lag_seconds",
		"ibbot_send_errors_total",
		"ibbot_rate_limit_waits_total 0",
		"process_resident_memory_bytes",
	}
	var missing []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, metrics := p.get("/metrics")
		missing = missing[:0]
		for _, want := range wants {
			if !strings.Contains(metrics, want) {
				missing = append(missing, want)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range missing {
		t.Errorf("/metrics lacks %q", want)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v, want status 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("ibbot did not exit within 20 s of SIGTERM")
	}
	_, token := storedSession(t, s.dbPath)
	logs := p.logs.String()
	if strings.Contains(logs, s.botUser.Password) || strings.Contains(logs, token) {
		t.Error("the logs contain the password or the access token")
	}
	if !strings.Contains(logs, "flushing the outgoing queue") {
		t.Error("the shutdown did not flush the queue")
	}
}

// TestCheckConfig runs `ibbot check-config` on a broken file and on the
// embedded example, as an operator would.
func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte("matrix:\n  homeserver: nope\n  user_id: x\n  roms: []\nlog:\n  level: loud\n"), 0o600)
	out, err := exec.Command(ibbotBinary(t), "check-config", "-config", broken).CombinedOutput()
	if err == nil {
		t.Fatalf("check-config accepted a broken file:\n%s", out)
	}
	for _, key := range []string{"matrix.homeserver", "matrix.user_id", "matrix.roms (line 4)", "log.level"} {
		if !bytes.Contains(out, []byte(key)) {
			t.Errorf("check-config output does not name %s:\n%s", key, out)
		}
	}

	example, err := exec.Command(ibbotBinary(t), "example-config").Output()
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "example.yaml")
	os.WriteFile(good, example, 0o600)
	if out, err := exec.Command(ibbotBinary(t), "check-config", "-config", good).CombinedOutput(); err != nil {
		t.Errorf("check-config rejects the example: %v\n%s", err, out)
	}
}
