// Package store keeps ibbot's state in SQL: the Matrix session, the sync
// token, the persistent outgoing queue and what the relays have seen.
// SQLite (a single file, pure Go driver, no cgo) is the default; PostgreSQL
// (pgx) suits deployments that keep state in a database server. Both run
// the same queries; only the schema files and a few words differ.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

//go:embed migrations
var migrations embed.FS

// dialect is what differs between the databases.
type dialect struct {
	name string // also the migrations folder
	// insertionOrder is the column that orders rows as they were inserted.
	insertionOrder string
	// caselessLike is LIKE ignoring case (SQLite's LIKE already does).
	caselessLike string
}

var (
	sqlite   = dialect{name: "sqlite", insertionOrder: "rowid", caselessLike: "LIKE"}
	postgres = dialect{name: "postgres", insertionOrder: "seq", caselessLike: "ILIKE"}
)

// Queries are written once, with PostgreSQL's numbered placeholders ($1,
// $2, ...), which modernc's SQLite driver binds by number too.

// DB is the store over one SQL database.
type DB struct {
	db      *sql.DB
	dialect dialect
	stmts   statements
	lock    *os.File // SQLite: held while open; nil for PostgreSQL
	dsn     string   // how db was opened, for a second pool (SharedPool)
	// epoch is the leadership term this process claims work under (see
	// Fence); 0 for a process that never led, and always on SQLite.
	epoch atomic.Int64
}

// Open opens the database named in the config: a postgres:// or
// postgresql:// URL, or else a SQLite file path.
func Open(ctx context.Context, database string) (*DB, error) {
	if IsPostgres(database) {
		return OpenPostgres(ctx, database)
	}
	return OpenSQLite(ctx, database)
}

// IsPostgres reports whether database names a PostgreSQL server.
func IsPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// OpenSQLite opens (creating if needed) the database file at path and
// applies any migrations it has not seen yet. The file holds the bot's
// access token, so it is made private (0600) before SQLite opens it; SQLite
// gives its -wal and -shm files the same mode.
//
// One process at a time: the file is locked for as long as it is open, and
// a second ibbot on the same file is refused with a clear message (two
// bots on one account would answer everything twice; run two replicas on
// PostgreSQL instead).
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	if err := makePrivate(path); err != nil {
		return nil, err
	}
	lock, err := lockFile(path)
	if err != nil {
		return nil, err
	}
	return openSQLite(ctx, path, lock, syncFull)
}

// SQLite's synchronous settings: FULL syncs the write-ahead log at every
// commit, so a commit (a delivery answered 202, a queued announcement, a
// mail marked relayed) survives a power cut, not only a crash; NORMAL
// syncs only at checkpoints. See BenchmarkCommit for what FULL costs.
const (
	syncFull   = "FULL"
	syncNormal = "NORMAL"
)

func openSQLite(ctx context.Context, path string, lock *os.File, synchronous string) (*DB, error) {
	dsn := sqliteDSN(path, synchronous)
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and this rules out
	// SQLITE_BUSY between our own goroutines.
	db.SetMaxOpenConns(1)
	s := &DB{db: db, dialect: sqlite, lock: lock, dsn: dsn}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return s, nil
}

func sqliteDSN(path, synchronous string) string {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(" + synchronous + ")", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// SharedPool gives a library that keeps its own tables in ibbot's
// database (mautrix's crypto and state stores) a connection pool of its
// own, and the dialect name go.mau.fi/util/dbutil knows it by. On SQLite
// it is a second pool on the same file, since the store's single
// connection would make the two wait on each other; on PostgreSQL, the
// store's pool. Close it when done (on PostgreSQL that is a no-op).
func (s *DB) SharedPool() (db *sql.DB, dialect string, closeFn func() error, err error) {
	if s.dialect == postgres {
		return s.db, "pgx", func() error { return nil }, nil
	}
	pool, err := sql.Open("sqlite", s.dsn)
	if err != nil {
		return nil, "", nil, err
	}
	pool.SetMaxOpenConns(4)
	return pool, "sqlite", pool.Close, nil
}

// OpenReadOnly opens the database for reading beside a running bot (the
// SQLite file is not locked, nothing is migrated): for subcommands that
// only show what the bot keeps.
func OpenReadOnly(ctx context.Context, database string) (*DB, error) {
	driver, dsn, d := "sqlite", "file:"+database+"?mode=ro&_pragma=busy_timeout(5000)", sqlite
	if IsPostgres(database) {
		driver, dsn, d = "pgx", database, postgres
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening %s: %w", d.name, err)
	}
	return &DB{db: db, dialect: d}, nil
}

// lockFile takes an exclusive lock on the database file for this process
// (flock, which Linux keeps apart from SQLite's own fcntl locks).
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another ibbot is running on %s: a SQLite database serves one bot at a time (for two replicas, use PostgreSQL)", path)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return f, nil
}

func makePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	f.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("making %s private: %w", path, err)
	}
	return nil
}

// OpenPostgres connects to the PostgreSQL database at dsn and applies any
// migrations it has not seen yet. The password can stay out of the URL:
// pgx reads PGPASSWORD and ~/.pgpass. Errors never repeat the password.
func OpenPostgres(ctx context.Context, dsn string) (*DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL: %w", err)
	}
	db.SetMaxOpenConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	s := &DB{db: db, dialect: postgres}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate PostgreSQL: %w", err)
	}
	return s, nil
}

// Close closes the database.
func (s *DB) Close() error {
	s.closeStatements()
	err := s.db.Close()
	if s.lock != nil {
		s.lock.Close() // releases the lock
	}
	return err
}

// migrationLock is the PostgreSQL advisory lock key that serialises
// migrations: replicas starting together must not apply a step twice.
const migrationLock = 0x1bb07_0001

// conn is what a migration runs on: the pool (SQLite) or one connection
// holding the migration lock (PostgreSQL).
type conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

func (s *DB) migrate(ctx context.Context) error {
	if s.dialect != postgres {
		return s.migrateOn(ctx, s.db)
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	// Closing a sql.Conn returns it to the pool: unlock explicitly.
	defer c.Close()
	if _, err := c.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("waiting for another replica's migration: %w", err)
	}
	defer c.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	return s.migrateOn(ctx, c)
}

func (s *DB) migrateOn(ctx context.Context, db conn) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	var current int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return err
	}
	steps, err := migrationSteps(s.dialect)
	if err != nil {
		return err
	}
	if len(steps) > 0 && current > steps[len(steps)-1].version {
		return fmt.Errorf("database schema version %d is newer than this ibbot knows (%d): refusing to run an old binary on it",
			current, steps[len(steps)-1].version)
	}
	for _, step := range steps {
		if step.version <= current {
			continue
		}
		if err := apply(ctx, db, step); err != nil {
			return fmt.Errorf("migration %s: %w", step.name, err)
		}
	}
	return nil
}

func apply(ctx context.Context, db conn, step migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, step.sql); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, step.version); err != nil {
		return err
	}
	return tx.Commit()
}

type migration struct {
	version int
	name    string
	sql     string
}

// migrationSteps reads the dialect's embedded NNN_name.sql files in
// version order. Both dialects have the same versions.
func migrationSteps(d dialect) ([]migration, error) {
	dir := "migrations/" + d.name
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, err
	}
	var steps []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %q is not named NNN_name.sql", e.Name())
		}
		body, err := migrations.ReadFile(dir + "/" + e.Name())
		if err != nil {
			return nil, err
		}
		steps = append(steps, migration{version: v, name: e.Name(), sql: string(body)})
	}
	slices.SortFunc(steps, func(a, b migration) int { return a.version - b.version })
	return steps, nil
}

// Get returns the value stored under key, and false when there is none.
func (s *DB) Get(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.queryRow(ctx, `SELECT value FROM kv WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return v, err == nil, err
}

// Put stores value under key, replacing any earlier value.
func (s *DB) Put(ctx context.Context, key, value string) error {
	_, err := s.exec(ctx,
		`INSERT INTO kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// Unreachable reports whether err means the database server could not be
// reached, or is starting up or shutting down: what waiting can mend, as
// opposed to a wrong password or a broken migration.
func Unreachable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", "53300": // shutting down, crashed, starting up, too many connections
			return true
		}
		return false
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded)
}
