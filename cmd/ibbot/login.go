package main

import (
	"context"
	"fmt"
	"io"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/store"
)

// matrixLogin signs the bot's account in by single sign-on and stores the
// session in the bot's database, then says how to hand the access token
// to a container deployment instead.
func matrixLogin(ctx context.Context, path, listen string, stdout io.Writer) error {
	cfg, err := loadMatrixConfig(path)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer st.Close()
	s, err := bot.LoginSSO(ctx, bot.SSOOptions{
		Config: cfg.Matrix, Store: st, Listen: listen, Log: zerolog.Nop(),
		Open: func(url string) {
			fmt.Fprintf(stdout, "Open this address in a browser and sign in as %s:\n\n  %s\n\n"+
				"(The browser then comes back to this machine's loopback; on a remote machine, forward the\n"+
				"port with ssh -L and give it with -listen.)\n\n", cfg.Matrix.UserID, url)
		},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Signed in as %s, device %s. The session is stored in %s, where `ibbot run` finds it.\n\n"+
		"For a container deployment, put the access token (shown once; keep it secret) in the Secret instead:\n\n"+
		"  oc create secret generic ibbot --from-literal=matrix-access-token=%s ...\n\n"+
		"or give it as IBBOT_MATRIX_ACCESS_TOKEN (or IBBOT_MATRIX_ACCESS_TOKEN_FILE).\n",
		s.UserID, s.DeviceID, describeDatabase(cfg.Database), s.AccessToken)
	return nil
}

// describeDatabase names the database without any password in its URL.
func describeDatabase(db string) string {
	if store.IsPostgres(db) {
		return "the PostgreSQL database"
	}
	return db
}

// recoveryKey prints the recovery key of the cross-signing keys the bot
// created at its first encrypted start, for the operator to keep apart from
// the database (a Secret, as IBBOT_RECOVERY_KEY).
func recoveryKey(ctx context.Context, path string, stdout io.Writer) error {
	cfg, err := loadMatrixConfig(path)
	if err != nil {
		return err
	}
	st, err := store.OpenReadOnly(ctx, cfg.Database)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer st.Close()
	key, ok, err := bot.StoredRecoveryKey(ctx, st)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s holds no recovery key: the bot creates one at its first start with encryption on, when the account has no cross-signing keys yet (and the password to upload them)", describeDatabase(cfg.Database))
	}
	fmt.Fprintf(stdout, "The recovery key of %s's cross-signing keys (keep it secret, apart from the database):\n\n  %s\n\n"+
		"Give it to ibbot as IBBOT_RECOVERY_KEY (or IBBOT_RECOVERY_KEY_FILE): a bot whose database is lost signs its new device with it.\n",
		cfg.Matrix.UserID, key)
	return nil
}
