package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestInteropDendrite runs Kabar against a real Dendrite (github.com/
// matrix-org/dendrite, Apache-2.0). It needs the dendrite, generate-config and
// generate-keys binaries, so it only runs when KABAR_INTEROP_DENDRITE names
// the dendrite binary (the other two are looked up beside it): `make
// interop-dendrite` builds them into bin/tools and runs it.

// startDendrite writes a Dendrite config (SQLite, in-memory JetStream, open
// registration, no key notaries, a federation TLS certificate from ca) and
// starts the monolith on 127.0.0.3; it is killed when the test ends.
func startDendrite(t *testing.T, ca *testCA, bin string) *remoteHS {
	t.Helper()
	dir := t.TempDir()
	tools := filepath.Dir(bin)
	name := freeAddr(t, "127.0.0.3")
	clientAddr := freeAddr(t, "127.0.0.3")
	certFile, keyFile := ca.issue(t, "127.0.0.3")
	keyPath := filepath.Join(dir, "matrix_key.pem")
	runTool(t, dir, filepath.Join(tools, "generate-keys"), "--private-key", keyPath)
	raw := runTool(t, dir, filepath.Join(tools, "generate-config"), "-ci", "-server", name, "-dir", dir)
	cfgPath := filepath.Join(dir, "dendrite.yaml")
	if err := os.WriteFile(cfgPath, patchDendriteConfig(t, raw, keyPath), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &remoteHS{Name: "dendrite", ServerName: name, URL: "http://" + clientAddr, log: filepath.Join(dir, "stderr.log"),
		lacks: map[string]string{"knock": "Dendrite v0.13.8 implements neither POST /knock nor make_knock/send_knock"}}
	// Open registration is refused without this flag (no captcha here).
	cmd := func() *exec.Cmd {
		cmd := exec.Command(bin, "--config", cfgPath, "--really-enable-open-registration", "--http-bind-address", clientAddr,
			"--https-bind-address", name, "--tls-cert", certFile, "--tls-key", keyFile)
		cmd.Dir = dir
		return cmd
	}
	d.start(t, cmd, 30*time.Second)
	return d
}

// patchDendriteConfig adjusts generate-config's CI defaults: our signing
// key, no TLS validation towards Kabar (its certificate comes from the test
// CA), presence over federation, logs to stderr at info, no MSCs.
func patchDendriteConfig(t *testing.T, raw []byte, keyPath string) []byte {
	t.Helper()
	var cfg map[string]any
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("dendrite config: %v", err)
	}
	section := func(name string) map[string]any {
		m, _ := cfg[name].(map[string]any)
		if m == nil {
			t.Fatalf("dendrite config has no %s section", name)
		}
		return m
	}
	section("global")["private_key"] = keyPath
	section("federation_api")["disable_tls_validation"] = true
	// Off by default; the presence scenario needs both directions.
	section("global")["presence"] = map[string]any{"enable_inbound": true, "enable_outbound": true}
	section("mscs")["mscs"] = []string{}
	level := "info"
	if os.Getenv("KABAR_TEST_LOG") != "" {
		level = "debug"
	}
	cfg["logging"] = []map[string]any{{"type": "std", "level": level}}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runTool executes a Dendrite tool and returns its standard output.
func runTool(t *testing.T, dir, bin string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, stderr.String())
	}
	return out
}

// TestInteropDendrite: alice@kabar and bob@dendrite chat in a room each
// server created, over real federation with TLS on both sides.
func TestInteropDendrite(t *testing.T) {
	bin := os.Getenv("KABAR_INTEROP_DENDRITE")
	if bin == "" {
		t.Skip("KABAR_INTEROP_DENDRITE is not set (make interop-dendrite)")
	}
	hs, d, alice, bob := interopPair(t, func(ca *testCA) *remoteHS { return startDendrite(t, ca, bin) })
	interopRooms(t, hs, d, alice, bob)
}
