package configs

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The example file must parse strictly and equal the defaults, so the
// documentation can never drift from the code.
func TestExampleMatchesDefaults(t *testing.T) {
	cfg := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(Example))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		t.Fatal(err)
	}
	want, _ := yaml.Marshal(Default())
	got, _ := yaml.Marshal(cfg)
	if string(want) != string(got) {
		t.Fatalf("example config differs from defaults:\nexample:\n%s\ndefaults:\n%s", got, want)
	}
	if err := Default().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
}

func TestEnvOverrides(t *testing.T) {
	env := map[string]string{
		"KABAR_SERVER_NAME": "chat.example.org", "KABAR_CLIENT_ADDR": "0.0.0.0:9000",
		"KABAR_DATABASE_URL": "postgres://x", "KABAR_REGISTRATION": "open", "KABAR_RATE_LIMITS": "off",
		"KABAR_DATA_DIR": "/var/lib/kabar", "KABAR_FEDERATION_ADDR": ":8448",
		"KABAR_REGISTRATION_SHARED_SECRET": "s3cret",
	}
	cfg, err := Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ServerName != "chat.example.org" || cfg.Client.Listen != "0.0.0.0:9000" || cfg.DatabaseURL() != "postgres://x" ||
		cfg.Registration.Mode != "open" || cfg.RateLimits.Enabled || cfg.DataDir != "/var/lib/kabar" ||
		cfg.Federation.Listen != ":8448" || cfg.Registration.SharedSecret != "s3cret" {
		t.Fatalf("overrides not applied: %+v", cfg)
	}
	if _, err := Load("", func(k string) string {
		if k == "KABAR_RATE_LIMITS" {
			return "maybe"
		}
		return ""
	}); err == nil {
		t.Fatal("bad KABAR_RATE_LIMITS accepted")
	}
}

func TestValidateReportsEverything(t *testing.T) {
	cfg := Default()
	cfg.ServerName = ""
	cfg.Client.Listen = "nope"
	cfg.Registration.Mode = "sometimes"
	cfg.Login.JWT = JWT{Enabled: true, Algorithms: []string{"none"}}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"server_name", "client.listen", "registration.mode", "login.jwt", `"none"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestLoadFileRejectsUnknownKeys(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k.yaml")
	os.WriteFile(p, []byte("server_name: a.example\nsever_name: typo\n"), 0o600)
	if _, err := Load(p, func(string) string { return "" }); err == nil {
		t.Fatal("typo key accepted")
	}
	os.WriteFile(p, []byte(""), 0o600)
	if _, err := Load(p, func(string) string { return "" }); err != nil {
		t.Fatalf("empty file: %v", err)
	}
}
