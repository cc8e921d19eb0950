// Command kabar is the Kabar Matrix homeserver: one binary that serves the
// client API, the federation API and the web client.
//
// This package is the only one that knows every other: it reads the
// configuration, builds each part with its Options, and wires them together.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "kabar:", err)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

const usage = `Kabar, a Matrix homeserver.

Usage:
  kabar [serve] [--config FILE]        run the server (the default command)
  kabar generate-config [FILE]         write the commented example configuration
  kabar create-user [--config FILE] [--admin] [--password PW] LOCALPART
                                       create an account (password read from
                                       KABAR_PASSWORD or stdin if not given)
  kabar healthcheck [--config FILE]    exit 0 if the local server answers /health
  kabar rotate-key [--config FILE]     retire the signing key (still published
                                       as an old key) and make a new one; run
                                       it with the server stopped
  kabar version                        print the version

Configuration comes from the YAML file named by --config or KABAR_CONFIG, with
KABAR_* environment variables on top; with neither, Kabar serves "localhost" on
127.0.0.1:8008 with an SQLite database under ./data.
`

// run dispatches a subcommand; it returns when the command is done or ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serveCmd(ctx, args, stderr)
	case "generate-config":
		return generateConfigCmd(args, stdout)
	case "create-user":
		return createUserCmd(ctx, args, os.Stdin, stdout, stderr)
	case "healthcheck":
		return healthcheckCmd(ctx, args)
	case "rotate-key":
		return rotateKeyCmd(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "kabar", Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "kabar: unknown command %q\n\n%s", cmd, usage)
		return errUsage
	}
}
