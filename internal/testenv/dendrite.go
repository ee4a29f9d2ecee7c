// Package testenv starts the real servers ibbot's tests (and `ibbot demo`)
// talk to, on loopback: a Dendrite homeserver built from the Go module
// proxy, and Matrix users driving it. The core returns errors so the demo
// can use it; the *T helpers in testing.go fail the test instead.
package testenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// DendriteVersion is the homeserver release tests run against; it is pinned
// in tools/dendrite/go.mod.
const DendriteVersion = "v0.13.8"

// BuildDendrite returns a directory holding the dendrite, generate-keys and
// generate-config binaries. It builds them from tools/dendrite (its own
// go.mod, so Dendrite's dependencies stay out of ibbot's) into the user's
// cache directory, once per version of that go.mod; later calls reuse them.
// IBBOT_DENDRITE_BIN names a directory of ready binaries instead.
func BuildDendrite(ctx context.Context) (string, error) { return buildTool(ctx, dendriteTool) }

// tool is a server the tests run, built from its own module under tools/.
type tool struct {
	name    string   // its folder under tools/
	version string   // pinned in its go.mod
	env     string   // names a directory of ready binaries instead
	pkgs    []string // the commands built
}

var dendriteTool = tool{name: "dendrite", version: DendriteVersion, env: "IBBOT_DENDRITE_BIN", pkgs: []string{
	"github.com/matrix-org/dendrite/cmd/dendrite", "github.com/matrix-org/dendrite/cmd/generate-keys",
	"github.com/matrix-org/dendrite/cmd/generate-config"}}

func buildTool(ctx context.Context, t tool) (string, error) {
	if dir := os.Getenv(t.env); dir != "" {
		return dir, nil
	}
	src, err := findToolsDir(t)
	if err != nil {
		return "", err
	}
	sum, err := hashFiles(filepath.Join(src, "go.mod"), filepath.Join(src, "go.sum"))
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	final := filepath.Join(cache, "ibbot", t.name+"-"+t.version+"-"+sum)
	if t.haveAll(final) {
		return final, nil
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(final), "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-o", tmp + string(filepath.Separator)}, t.pkgs...)...)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s %s (needs the Go toolchain and the module proxy): %w\n%s", t.name, t.version, err, out)
	}
	// Another process may have finished the same build first; either copy is good.
	if err := os.Rename(tmp, final); err != nil && !t.haveAll(final) {
		return "", err
	}
	return final, nil
}

func (t tool) haveAll(dir string) bool {
	for _, p := range t.pkgs {
		if _, err := os.Stat(filepath.Join(dir, filepath.Base(p))); err != nil {
			return false
		}
	}
	return true
}

// findToolsDir walks up from the working directory to tools/<name>.
func findToolsDir(t tool) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		cand := filepath.Join(dir, "tools", t.name)
		if _, err := os.Stat(filepath.Join(cand, "go.mod")); err == nil {
			return cand, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("tools/%s/go.mod not found above the working directory: run from the ibbot checkout, or set %s to a directory with %s's binaries", t.name, t.env, t.name)
		}
		dir = parent
	}
}

func hashFiles(paths ...string) (string, error) {
	h := sha256.New()
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// Dendrite is a homeserver running on loopback.
type Dendrite struct {
	URL        string // e.g. http://127.0.0.1:38213
	ServerName string // "localhost": user ids are @name:localhost
	Dir        string // config, keys, databases and dendrite.log
	cmd        *exec.Cmd
	exited     chan struct{}
}

// StartDendrite writes a fresh config into dir and starts Dendrite on a
// free loopback port with open registration. It returns once the client API
// answers.
func StartDendrite(ctx context.Context, binDir, dir string) (*Dendrite, error) {
	if err := writeDendriteConfig(ctx, binDir, dir); err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 { // a free port can be taken between choosing and binding it
		d, err := launch(ctx, binDir, dir)
		if err == nil {
			return d, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func writeDendriteConfig(ctx context.Context, binDir, dir string) error {
	keys := exec.CommandContext(ctx, filepath.Join(binDir, "generate-keys"), "--private-key", filepath.Join(dir, "matrix_key.pem"))
	if out, err := keys.CombinedOutput(); err != nil {
		return fmt.Errorf("generate-keys: %w\n%s", err, out)
	}
	gen := exec.CommandContext(ctx, filepath.Join(binDir, "generate-config"), "-ci", "-dir", dir)
	conf, err := gen.Output()
	if err != nil {
		return fmt.Errorf("generate-config: %w", err)
	}
	conf = bytes.Replace(conf, []byte("private_key: matrix_key.pem"), []byte("private_key: "+filepath.Join(dir, "matrix_key.pem")), 1)
	// Loopback only: never try to reach other servers.
	conf = bytes.Replace(conf, []byte("disable_federation: false"), []byte("disable_federation: true"), 1)
	return os.WriteFile(filepath.Join(dir, "dendrite.yaml"), conf, 0o600)
}

func launch(ctx context.Context, binDir, dir string) (*Dendrite, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	logFile, err := os.OpenFile(filepath.Join(dir, "dendrite.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(filepath.Join(binDir, "dendrite"),
		"-config", filepath.Join(dir, "dendrite.yaml"),
		"-http-bind-address", addr, "-https-bind-address", "",
		"-really-enable-open-registration")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Dies with us, even when the test binary is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting dendrite: %w", err)
	}
	d := &Dendrite{URL: "http://" + addr, ServerName: "localhost", Dir: dir, cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(d.exited) }()
	if err := d.waitUp(ctx, 60*time.Second); err != nil {
		d.Stop()
		return nil, fmt.Errorf("%w\n%s", err, d.LogTail(20))
	}
	return d, nil
}

func (d *Dendrite) waitUp(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.URL+"/_matrix/client/versions", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-d.exited:
			return errors.New("dendrite exited during start-up")
		case <-ctx.Done():
			return fmt.Errorf("dendrite did not answer within %s", limit)
		case <-tick.C:
		}
	}
}

// Stop terminates Dendrite (SIGTERM, then SIGKILL after 5 s) and waits for
// it, so nothing is left running.
func (d *Dendrite) Stop() {
	if d.cmd.Process == nil {
		return
	}
	stopGroup(d.cmd.Process.Pid, d.exited)
}

// stopGroup ends a server started in its own process group: SIGTERM, then
// SIGKILL after 5 s, and waits until exited closes.
func stopGroup(pid int, exited <-chan struct{}) {
	syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}
}

// LogTail returns the last n lines of Dendrite's log, for failure reports.
func (d *Dendrite) LogTail(n int) string {
	b, _ := os.ReadFile(filepath.Join(d.Dir, "dendrite.log"))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
