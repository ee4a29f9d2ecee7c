package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// ErrNoPostgres means PostgreSQL is not installed (.ci/run installs it).
var ErrNoPostgres = errors.New("PostgreSQL is not installed (apt-get install postgresql)")

// Postgres is a real PostgreSQL server in a temporary directory, on a
// loopback port, trusting local connections. As root it runs as nobody,
// since PostgreSQL refuses to run as root.
type Postgres struct {
	Dir  string
	bin  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
	dbs  atomic.Int64
}

// nobody is the uid and gid PostgreSQL runs as when the tests run as root.
const nobody = 65534

// postgresBin finds the newest server Debian installed.
func postgresBin() (string, error) {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(bins, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return va - vb
	})
	if len(bins) == 0 {
		return "", ErrNoPostgres
	}
	return bins[len(bins)-1], nil
}

// StartPostgres creates a cluster and starts the server; Stop ends it.
func StartPostgres() (*Postgres, error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ibbot-postgres-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &Postgres{Dir: dir, port: port}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(dir, nobody, nobody); err != nil {
			return nil, err
		}
	}
	initdb := p.command(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "ibbot", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	p.bin = bin
	if err := p.start(); err != nil {
		return nil, err
	}
	return p, p.waitReady()
}

// start runs the server on the cluster and port it has.
func (p *Postgres) start() error {
	// fsync off: test data need not survive a power cut.
	p.cmd = p.command(filepath.Join(p.bin, "postgres"), "-D", filepath.Join(p.Dir, "data"), "-h", "127.0.0.1", "-p", strconv.Itoa(p.port),
		"-k", p.Dir, "-F", "-c", "full_page_writes=off", "-c", "synchronous_commit=off")
	log, err := os.OpenFile(filepath.Join(p.Dir, "postgres.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	p.cmd.Stdout, p.cmd.Stderr = log, log
	p.done = make(chan struct{})
	if err := p.cmd.Start(); err != nil {
		return err
	}
	done := p.done
	go func() { p.cmd.Wait(); log.Close(); close(done) }()
	return nil
}

// Halt stops the server and keeps its data and port: a database outage.
func (p *Postgres) Halt() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT)
	stopGroup(p.cmd.Process.Pid, p.done)
}

// Resume starts a halted server again, on the same port, with its data.
func (p *Postgres) Resume() error {
	if err := p.start(); err != nil {
		return err
	}
	return p.waitReady()
}

// command runs a PostgreSQL program, as nobody when we are root, in its
// own process group, killed if the test process dies.
func (p *Postgres) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if os.Geteuid() == 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: nobody, Gid: nobody}
	}
	return cmd
}

func (p *Postgres) waitReady() error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		db, err := sql.Open("pgx", p.dsn("postgres"))
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			log, _ := os.ReadFile(filepath.Join(p.Dir, "postgres.log"))
			return fmt.Errorf("postgres exited at start:\n%s", log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop()
			return fmt.Errorf("postgres did not accept connections within 30 s: %v", err)
		}
	}
}

func (p *Postgres) dsn(db string) string {
	return fmt.Sprintf("postgres://ibbot@127.0.0.1:%d/%s?sslmode=disable", p.port, db)
}

// NewDatabase creates an empty database and returns its URL, so each test
// starts from nothing on the one server.
func (p *Postgres) NewDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("ibbot_%d", p.dbs.Add(1))
	db, err := sql.Open("pgx", p.dsn("postgres"))
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	return p.dsn(name), nil
}

// Stop ends the server (SIGINT: PostgreSQL's fast shutdown, which does not
// wait for clients) and removes its directory.
func (p *Postgres) Stop() {
	if p.cmd != nil && p.cmd.Process != nil {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT)
		stopGroup(p.cmd.Process.Pid, p.done)
	}
	os.RemoveAll(p.Dir)
}
