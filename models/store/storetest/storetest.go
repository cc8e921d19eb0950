// Package storetest gives tests a fresh database of every configured dialect:
// an SQLite file always, and a PostgreSQL database when KABAR_TEST_POSTGRES
// holds a server URL (each test gets its own database, dropped afterwards).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for CREATE/DROP DATABASE

	"github.com/kabarchat/kabar/models/store"
)

// DB is one fresh database.
type DB struct {
	Name string // "sqlite" or "postgres", used as the subtest name
	URL  string
}

// URLs creates one fresh database per dialect and returns their URLs.
func URLs(t testing.TB) []DB {
	t.Helper()
	dbs := []DB{{Name: "sqlite", URL: filepath.Join(t.TempDir(), "kabar.db")}}
	if base := os.Getenv("KABAR_TEST_POSTGRES"); base != "" {
		dbs = append(dbs, DB{Name: "postgres", URL: freshPostgres(t, base)})
	}
	return dbs
}

// Each runs fn as a subtest against a freshly migrated Store of each dialect.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	for _, db := range URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			fn(t, Open(t, db.URL))
		})
	}
}

// Open opens and migrates a Store, closed when the test ends.
func Open(t testing.TB, dbURL string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{URL: dbURL, MaxOpenConns: 10})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func freshPostgres(t testing.TB, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("KABAR_TEST_POSTGRES: %v", err)
	}
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	name := "kabar_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database (is PostgreSQL running at KABAR_TEST_POSTGRES?): %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("KABAR_TEST_POSTGRES is not a URL: %v", err)
	}
	u.Path = "/" + name
	return fmt.Sprint(u)
}
