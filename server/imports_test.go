package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules enforces DESIGN.md's import rules with `go list -deps`.
func TestImportRules(t *testing.T) {
	const mod = "github.com/kabarchat/kabar/"
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", "github.com/kabarchat/kabar/...").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	pure := map[string]bool{"federation/canonicaljson": true, "federation/event": true, "federation/eventauth": true, "federation/stateres": true}
	echoOK := []string{"clientapi", "echoserver", "federation/receiver", "federation/xmatrix", "web", "server"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], mod)
		for _, dep := range fields[1:] {
			local := strings.TrimPrefix(dep, mod)
			isLocal := local != dep
			switch {
			case strings.HasPrefix(pkg, "federation/") && isLocal && strings.HasPrefix(local, "clientapi"):
				t.Errorf("%s imports %s: nothing under federation/ may import clientapi", pkg, dep)
			case pure[pkg] && isLocal && !pure[local] && local != "models/spec":
				t.Errorf("pure package %s imports %s", pkg, dep)
			case pure[pkg] && !isLocal && strings.Contains(dep, ".") && !strings.HasPrefix(dep, "golang.org/x/crypto") && !strings.HasPrefix(dep, "golang.org/x/sys") && !strings.HasPrefix(dep, "vendor/"):
				t.Errorf("pure package %s imports %s", pkg, dep)
			case strings.HasPrefix(dep, "github.com/labstack/echo") && !hasPrefixAny(pkg, echoOK):
				t.Errorf("%s imports Echo; only %v may", pkg, echoOK)
			case strings.HasPrefix(dep, "gorm.io/") && !strings.HasPrefix(pkg, "models") && pkg != "server":
				t.Errorf("%s imports GORM; only models/ and server may", pkg)
			case local == "configs" && isLocal && pkg != "server":
				t.Errorf("%s imports configs; only server may", pkg)
			}
		}
	}
}

func hasPrefixAny(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if s == p || strings.HasPrefix(s, p+"/") {
			return true
		}
	}
	return false
}
