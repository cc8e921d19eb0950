package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// createUserCmd creates an account directly in the database:
// kabar create-user [--config FILE] [--admin] [--password PW] LOCALPART.
// The password comes from --password, else KABAR_PASSWORD, else the first
// line of stdin (so it need not appear in the process list).
func createUserCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("create-user", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "path of the YAML configuration (or KABAR_CONFIG)")
	admin := fs.Bool("admin", false, "make the user a server admin")
	password := fs.String("password", "", "the password (prefer KABAR_PASSWORD or stdin)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: kabar create-user [--config FILE] [--admin] [--password PW] LOCALPART")
		return errUsage
	}
	local := strings.TrimPrefix(fs.Arg(0), "@")
	pw, err := readPassword(*password, stdin)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	name, err := spec.ParseServerName(cfg.ServerName)
	if err != nil {
		return fmt.Errorf("server_name: %w", err)
	}
	log := newLogger(cfg, stderr)
	st, err := store.Open(ctx, store.Options{URL: cfg.DatabaseURL(), MaxOpenConns: 2, Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	accounts, err := newAccounts(cfg, name, st, log)
	if err != nil {
		return err
	}
	if err := accounts.CheckPasswordStrength(pw); err != nil {
		return err
	}
	if i := strings.IndexByte(local, ':'); i >= 0 {
		if local[i+1:] != string(name) {
			return fmt.Errorf("%s is not a user of %s", fs.Arg(0), name)
		}
		local = local[:i]
	}
	id, err := accounts.CreateAccount(ctx, authnAccount(local, pw, *admin))
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "created", id)
	return nil
}

func readPassword(flagValue string, stdin io.Reader) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if v := os.Getenv("KABAR_PASSWORD"); v != "" {
		return v, nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password: use --password, KABAR_PASSWORD or stdin")
	}
	return line, nil
}
