// Command ibbot is the Image Builder community bot. This file only wires:
// it parses the command line, loads the config and starts the parts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/handlers/mail"
	"github.com/osbuild/ibbot/internal/app"
	"github.com/osbuild/ibbot/internal/buildinfo"
	"github.com/osbuild/ibbot/internal/logging"
	"github.com/osbuild/ibbot/internal/memlimit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	var usage usageError
	switch {
	case errors.As(err, &usage):
		os.Exit(2) // what was wrong is printed already, with the usage
	case err != nil:
		fmt.Fprintln(os.Stderr, "ibbot:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return dispatch(ctx, commands(stderr), args, stdout, stderr)
}

// commands is the command line: every subcommand, its flags and words.
func commands(stderr io.Writer) []command {
	return []command{
		{name: "run", args: "-config FILE", summary: "run the bot",
			detail:  "Runs the bot with the config file: answers commands, relays the list and GitHub, serves\nthe status page. Stops cleanly on SIGINT or SIGTERM. (Also: ibbot -config FILE.)",
			example: "ibbot run -config ibbot.yaml",
			setup: func(fs *flag.FlagSet) action {
				path := configFlag(fs)
				return func(ctx context.Context, _ io.Writer) error {
					cfg, err := loadConfig(*path)
					if err != nil {
						return err
					}
					log := logging.New(stderr, cfg.Log)
					log.Info().Msg(memlimit.Apply(os.DirFS("/sys/fs/cgroup"), os.Getenv))
					return app.Run(ctx, cfg, log, app.Options{})
				}
			}},
		{name: "check-config", args: "-config FILE", summary: "validate a config file and list every problem",
			detail:  "Reads the config file as `ibbot run` would (with the IBBOT_* secrets of the environment)\nand lists every problem, in the file's order, each with its key and line.",
			example: "ibbot check-config -config ibbot.yaml",
			setup: func(fs *flag.FlagSet) action {
				path := configFlag(fs)
				return func(_ context.Context, stdout io.Writer) error {
					if _, err := loadConfig(*path); err != nil {
						return err
					}
					_, err := fmt.Fprintf(stdout, "%s: ok\n", *path)
					return err
				}
			}},
		{name: "login", args: "-config FILE [-listen ADDR]", summary: "sign the bot's account in by single sign-on (accounts without a password)",
			detail: "Signs the bot's Matrix account in through the homeserver's single sign-on in a browser, and\n" +
				"stores the session in the bot's database (and prints the access token for a Secret). Only the\n" +
				"config's matrix and database keys are read.",
			example: "ibbot login -config ibbot.yaml -listen 127.0.0.1:8765",
			setup: func(fs *flag.FlagSet) action {
				path := configFlag(fs)
				listen := fs.String("listen", "127.0.0.1:0", "the loopback host:port (`ADDR`) the browser comes back to; on a remote machine, forward it with ssh -L")
				return func(ctx context.Context, stdout io.Writer) error { return matrixLogin(ctx, *path, *listen, stdout) }
			}},
		{name: "mail-login", args: "-config FILE", summary: "get the first OAuth 2.0 refresh token for the mailbox",
			detail:  "For mail.imap.auth: oauth2 (Gmail, Microsoft 365): sends you to the provider's sign-in and\nprints the refresh token to keep as IBBOT_IMAP_OAUTH2_REFRESH_TOKEN.",
			example: "ibbot mail-login -config ibbot.yaml",
			setup: func(fs *flag.FlagSet) action {
				path := configFlag(fs)
				return func(ctx context.Context, stdout io.Writer) error { return mailLogin(ctx, *path, stdout) }
			}},
		{name: "recovery-key", args: "-config FILE", summary: "print the recovery key of the bot's cross-signing keys",
			detail:  "Prints the recovery key the bot created with its cross-signing keys, from its database, to\nkeep apart from it (IBBOT_RECOVERY_KEY): a bot whose database is lost signs its new device with it.",
			example: "ibbot recovery-key -config ibbot.yaml",
			setup: func(fs *flag.FlagSet) action {
				path := configFlag(fs)
				return func(ctx context.Context, stdout io.Writer) error { return recoveryKey(ctx, *path, stdout) }
			}},
		{name: "demo", args: "[-keep=false]", summary: "run the bot on a local homeserver, with no accounts anywhere",
			detail: "Builds and starts a local Matrix homeserver (Dendrite), a mail server and a recorded GitHub,\n" +
				"plays a short scripted session and prints it, then keeps running with the address and the\n" +
				"accounts to log in with in Element, until Ctrl-C.",
			example: "ibbot demo",
			setup: func(fs *flag.FlagSet) action {
				keep := fs.Bool("keep", true, "keep running after the scripted session, until Ctrl-C")
				return func(ctx context.Context, stdout io.Writer) error { return runDemo(ctx, stdout, *keep) }
			}},
		{name: "example-config", summary: "print the documented example config",
			detail:  "Prints the example config, every key with a comment; README.md documents each.",
			example: "ibbot example-config > ibbot.yaml",
			setup: func(*flag.FlagSet) action {
				return func(_ context.Context, stdout io.Writer) error {
					_, err := stdout.Write(config.Example)
					return err
				}
			}},
		{name: "version", summary: "print version, commit and Go version",
			detail: "Prints the version, the commit it was built from and the Go version.",
			setup: func(*flag.FlagSet) action {
				return func(_ context.Context, stdout io.Writer) error {
					info := buildinfo.Read()
					_, err := fmt.Fprintf(stdout, "ibbot %s (commit %s, %s)\n", info.Version, info.Commit, info.GoVersion)
					return err
				}
			}},
	}
}

func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "the YAML config `FILE` (required; see ibbot example-config)")
}

var errNoConfig = errors.New("-config FILE is required (`ibbot example-config > ibbot.yaml` writes one to start from)")

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return nil, errNoConfig
	}
	cfg, err := config.Load(path, os.LookupEnv)
	if err == nil {
		err = app.Check(cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("config %s:\n%w", path, indent(err))
	}
	return cfg, nil
}

// loadMatrixConfig is loadConfig for the commands that only deal with the
// bot's account and database (login, recovery-key): the rest of the file
// may still be unfinished.
func loadMatrixConfig(path string) (*config.Config, error) {
	if path == "" {
		return nil, errNoConfig
	}
	cfg, err := config.LoadMatrix(path, os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("config %s:\n%w", path, indent(err))
	}
	return cfg, nil
}

// mailLogin runs the provider's sign-in for the mailbox and prints the
// refresh token to store as a secret. The config need not have one yet:
// getting it is the point.
func mailLogin(ctx context.Context, path string, stdout io.Writer) error {
	const placeholder = "(being obtained by mail-login)"
	env := func(k string) (string, bool) {
		if k == "IBBOT_IMAP_OAUTH2_REFRESH_TOKEN" {
			if v, ok := os.LookupEnv(k); ok && v != "" {
				return v, true
			}
			return placeholder, true
		}
		return os.LookupEnv(k)
	}
	if path == "" {
		return errNoConfig
	}
	cfg, err := config.Load(path, env)
	if err != nil {
		return fmt.Errorf("config %s:\n%w", path, indent(err))
	}
	if cfg.Mail.IMAP.Auth != config.AuthOAuth2 {
		return errors.New("mail.imap.auth is not oauth2: there is nothing to sign in to")
	}
	token, err := mail.FirstRefreshToken(ctx, cfg.Mail.IMAP.OAuth2, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nThe refresh token (shown once; keep it secret):\n\n  %s\n\n"+
		"Give it to ibbot as a secret, e.g. IBBOT_IMAP_OAUTH2_REFRESH_TOKEN (or IBBOT_IMAP_OAUTH2_REFRESH_TOKEN_FILE\n"+
		"naming a file that holds it), rather than in the config file.\n", token)
	return nil
}

// indent puts each joined problem on its own line, so check-config prints a
// readable list.
func indent(err error) error {
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		return fmt.Errorf("  %w", err)
	}
	var lines []error
	for _, e := range joined.Unwrap() {
		lines = append(lines, indent(e))
	}
	return errors.Join(lines...)
}
