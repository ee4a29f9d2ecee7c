package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func noEnv(string) (string, bool) { return "", false }

func TestExampleLoads(t *testing.T) {
	cfg, err := Parse(Example, noEnv)
	if err != nil {
		t.Fatalf("the embedded example does not load:\n%v", err)
	}
	if cfg.Matrix.CommandMaxAge != 5*time.Minute || cfg.Matrix.Rooms[0] != "#image-builder:fedoraproject.org" {
		t.Errorf("example values not decoded: %+v", cfg.Matrix)
	}
}

func TestBrokenConfigNamesEveryKey(t *testing.T) {
	broken := `
matrix:
  homeserver: ftp://nope
  user_id: ibbot
  romos: ["#x:y"]
  rooms: ["general"]
  command_prefix: ""
  command_max_age: soon
  flood:
    commands: -1
database: mysql://db/ibbot
http:
  listen: nonsense
log:
  level: loud
  format: xml
shutdown:
  timeout: 0s
extra: 1
`
	_, err := Parse([]byte(broken), noEnv)
	if err == nil {
		t.Fatal("broken config accepted")
	}
	for _, key := range []string{
		"matrix.homeserver", "matrix.user_id", "matrix.romos (line 5): unknown key; did you mean \"rooms\"?",
		"matrix.rooms[0]", "matrix.command_prefix", "matrix.command_max_age (line 8)", "matrix.password",
		"matrix.flood.commands", "database", "http.listen", "log.level", "log.format", "shutdown.timeout",
		"extra (line 19): unknown key",
	} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %q:\n%v", key, err)
		}
	}
}

func TestSecretsFromEnvAndFiles(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	os.WriteFile(file, []byte("tok-from-file\n"), 0o600)
	env := map[string]string{
		"IBBOT_MATRIX_PASSWORD":          "pw-from-env",
		"IBBOT_MATRIX_ACCESS_TOKEN_FILE": file,
	}
	cfg, err := Parse([]byte("matrix: {homeserver: 'https://hs', user_id: '@b:hs', password: in-file}"),
		func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Matrix.Password.Value(); got != "pw-from-env" {
		t.Errorf("password = %q, want the environment's", got)
	}
	if got := cfg.Matrix.AccessToken.Value(); got != "tok-from-file" {
		t.Errorf("access token = %q, want the file's", got)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	cfg := Defaults()
	cfg.Matrix.Password = NewSecret("hunter2")
	cfg.Matrix.AccessToken = NewSecret("syt_secret")
	j, _ := json.Marshal(cfg)
	var logged bytes.Buffer
	log := zerolog.New(&logged)
	log.Info().Interface("config", cfg).Str("pw", cfg.Matrix.Password.String()).Msg("x")
	for _, out := range []string{string(j), logged.String()} {
		if strings.Contains(out, "hunter2") || strings.Contains(out, "syt_secret") {
			t.Errorf("secret printed: %s", out)
		}
	}
}

func TestEmptyFileMeansDefaultsButRequiredKeysMissing(t *testing.T) {
	_, err := Parse(nil, noEnv)
	if err == nil || !strings.Contains(err.Error(), "matrix.homeserver: is required") {
		t.Fatalf("empty config: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Example)
	f.Add([]byte("matrix: [1, 2]"))
	f.Add([]byte("matrix:\n  flood: {commands: x}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, noEnv)
		if err == nil && cfg.Validate() != nil {
			t.Fatal("Parse accepted a config that does not validate")
		}
	})
}

func TestProdHashSourcesAreChecked(t *testing.T) {
	_, err := Parse([]byte(`
matrix: {homeserver: "https://hs", user_id: "@b:hs", password: x}
prodhash:
  check_interval: 1s
  sources:
    frontend: {type: json, url: nope}
    composer: {type: static, sha: xyz, colour: red}
    crc: {type: magic}
`), noEnv)
	for _, key := range []string{"prodhash.check_interval", "prodhash.sources.frontend.url", "prodhash.sources.frontend.field",
		"prodhash.sources.composer.sha", "prodhash.sources.composer.colour", "prodhash.sources.crc.type"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s: %v", key, err)
		}
	}
}

func TestDatabaseSetting(t *testing.T) {
	for db, want := range map[string]string{
		"ibbot.db":                          "sqlite",
		"/var/lib/ibbot/ibbot.db":           "sqlite",
		"postgres://ibbot@db.example/ibbot": "postgres",
		"postgresql://db.example:5432/ibbot?sslmode=verify-full": "postgres",
		"postgres:///ibbot": "", // no host
		"mysql://db/ibbot":  "",
		"":                  "",
	} {
		got, err := DatabaseDriver(db)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("DatabaseDriver(%q) = %q, %v; want %q", db, got, err, want)
		}
	}
}
