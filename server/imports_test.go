package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules enforces DESIGN.md's import rules with `go list -deps`.
// Rules about Echo, GORM and configs apply to direct imports (a service may
// use the store, which uses GORM); the pure protocol packages and the
// federation/clientapi separation are checked over all transitive deps.
func TestImportRules(t *testing.T) {
	const mod = "github.com/kabarchat/kabar/"
	std := map[string]bool{}
	out, err := exec.Command("go", "list", "std").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		std[p] = true
	}
	out, err = exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}|{{join .Deps \" \"}}", mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pure := map[string]bool{"federation/canonicaljson": true, "federation/event": true, "federation/eventauth": true, "federation/stateres": true}
	echoOK := []string{"clientapi", "echoserver", "federation/receiver", "federation/xmatrix", "web", "server"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		pkg := strings.TrimPrefix(parts[0], mod)
		for _, dep := range strings.Fields(parts[2]) {
			local, isLocal := strings.CutPrefix(dep, mod)
			switch {
			case strings.HasPrefix(pkg, "federation/") && isLocal && strings.HasPrefix(local, "clientapi"):
				t.Errorf("%s depends on %s: nothing under federation/ may import clientapi", pkg, dep)
			case pure[pkg] && isLocal && !pure[local] && local != "models/spec":
				t.Errorf("pure package %s depends on %s", pkg, dep)
			case pure[pkg] && !isLocal && !std[dep] && !strings.HasPrefix(dep, "golang.org/x/crypto") && !strings.HasPrefix(dep, "golang.org/x/sys"):
				t.Errorf("pure package %s depends on %s", pkg, dep)
			}
		}
		for _, imp := range strings.Fields(parts[1]) {
			local, isLocal := strings.CutPrefix(imp, mod)
			switch {
			case strings.HasPrefix(imp, "github.com/labstack/echo") && !hasPrefixAny(pkg, echoOK):
				t.Errorf("%s imports Echo; only %v may", pkg, echoOK)
			case strings.HasPrefix(imp, "gorm.io/") && !strings.HasPrefix(pkg, "models") && pkg != "server":
				t.Errorf("%s imports GORM; only models/ and server may", pkg)
			case isLocal && local == "configs" && pkg != "server":
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
