package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/kabarchat/kabar/federation/keys"
)

// rotateKeyCmd retires the signing key: it goes to signing.key.old with
// expired_ts = now and keeps being published under old_verify_keys, so
// other servers still verify the events it signed (server-server-api
// "Publishing Keys"); a new key takes its place at the next start.
func rotateKeyCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rotate-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "path of the YAML configuration (or KABAR_CONFIG)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	oldID, newID, err := keys.Rotate(filepath.Join(cfg.DataDir, "signing.key"), time.Now())
	if err != nil {
		return fmt.Errorf("rotate signing key: %w", err)
	}
	fmt.Fprintf(stdout, "retired %s, new signing key %s; restart the server to use it\n", oldID, newID)
	return nil
}
