package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// jsScript starts a Node script of web/ (matrix-js-sdk under Node)
// against baseURL, or skips when Node or the web client's node_modules are
// missing. The script prints JSON lines on stdout; jsResult reads them.
func jsScript(t *testing.T, script, baseURL string, env ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	web, _ := filepath.Abs("../web")
	if _, err := os.Stat(filepath.Join(web, "node_modules/matrix-js-sdk")); err != nil {
		t.Skip("web/node_modules missing: run npm ci in web/")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = web
	cmd.Env = append(append(os.Environ(), "KABAR_URL="+baseURL), env...)
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(out)
}

// jsResult reads the script's JSON lines until the last and fails the test
// unless it reports ok.
func jsResult(t *testing.T, cmd *exec.Cmd, lines *bufio.Scanner) {
	t.Helper()
	var last map[string]any
	for lines.Scan() {
		t.Logf("js-sdk: %s", lines.Text())
		json.Unmarshal(lines.Bytes(), &last)
	}
	if err := cmd.Wait(); err != nil || last["ok"] != true {
		t.Fatalf("js-sdk script failed (%v): %v", err, last)
	}
}

// TestSlidingSyncJSSDK runs web/e2e/js-sdk-sliding.mjs: matrix-js-sdk's
// SlidingSync class (through client.startClient({slidingSync})) gets a
// user's rooms, names and timelines from Kabar and a live message after.
// It skips when Node or web/node_modules are missing.
func TestSlidingSyncJSSDK(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		cmd, lines := jsScript(t, "e2e/js-sdk-sliding.mjs", ts.URL)
		jsResult(t, cmd, lines)
	})
}
