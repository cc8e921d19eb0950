package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/kabarchat/kabar/configs"
)

// loadConfig reads and validates the configuration named by --config,
// KABAR_CONFIG or nothing (defaults).
func loadConfig(path string) (*configs.Config, error) {
	cfg, err := configs.Load(path, os.Getenv)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

func serveCmd(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "path of the YAML configuration (or KABAR_CONFIG)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	// Batch log writes under load (see logwriter.go); Close flushes on exit.
	logOut := newLogWriter(stderr, 10*time.Millisecond)
	defer logOut.Close()
	srv, err := newServer(ctx, cfg, newLogger(cfg, logOut))
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}

func generateConfigCmd(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "-" {
		_, err := stdout.Write(configs.Example)
		return err
	}
	if _, err := os.Stat(args[0]); err == nil {
		return fmt.Errorf("%s already exists; not overwriting it", args[0])
	}
	if err := os.WriteFile(args[0], configs.Example, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s; edit server_name before the first start\n", args[0])
	return nil
}

// healthcheckCmd asks the running server's /health (for container health
// checks, where no curl exists).
func healthcheckCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	configPath := fs.String("config", "", "path of the YAML configuration (or KABAR_CONFIG)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(cfg.Client.Listen)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/health", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s", resp.Status)
	}
	return nil
}
