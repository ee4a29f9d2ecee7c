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
)

const usage = `usage:
  ibbot run -config FILE           run the bot (also: ibbot -config FILE)
  ibbot check-config -config FILE  validate a config file and list every problem
  ibbot login -config FILE         sign the bot's account in by single sign-on (accounts without a password)
                                   [-listen 127.0.0.1:PORT: where the browser comes back]
  ibbot mail-login -config FILE    get the first OAuth 2.0 refresh token for the mailbox
  ibbot recovery-key -config FILE  print the recovery key of the bot's cross-signing keys
  ibbot demo [-keep=false]         run the bot on a local homeserver, with no accounts anywhere
  ibbot example-config             print the documented example config
  ibbot version                    print version, commit and Go version
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ibbot:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub := "run"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		sub, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("ibbot "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	configPath := fs.String("config", "", "path to the YAML config file")
	keep := fs.Bool("keep", true, "demo: keep running after the transcript until Ctrl-C")
	listen := fs.String("listen", "127.0.0.1:0", "login: the loopback address the browser comes back to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch sub {
	case "run":
		cfg, err := loadConfig(*configPath)
		if err != nil {
			return err
		}
		return app.Run(ctx, cfg, logging.New(stderr, cfg.Log), app.Options{})
	case "check-config":
		if _, err := loadConfig(*configPath); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: ok\n", *configPath)
		return nil
	case "login":
		return matrixLogin(ctx, *configPath, *listen, stdout)
	case "recovery-key":
		return recoveryKey(ctx, *configPath, stdout)
	case "mail-login":
		return mailLogin(ctx, *configPath, stdout)
	case "demo":
		return runDemo(ctx, stdout, *keep)
	case "example-config":
		_, err := stdout.Write(config.Example)
		return err
	case "version":
		info := buildinfo.Read()
		fmt.Fprintf(stdout, "ibbot %s (commit %s, %s)\n", info.Version, info.Commit, info.GoVersion)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown subcommand %q", sub)
	}
}

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return nil, errors.New("-config FILE is required (see `ibbot example-config`)")
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
		return errors.New("-config FILE is required (see `ibbot example-config`)")
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
