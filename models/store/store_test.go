package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/kabarchat/kabar/models/migrations"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

func TestOpenMigratesAndReopens(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, store.Options{URL: db.URL})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			s.Close()
			// Reopening an up-to-date database is a no-op.
			s, err = store.Open(ctx, store.Options{URL: db.URL})
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
		})
	}
}

func TestRefusesNewerDatabase(t *testing.T) {
	url := filepath.Join(t.TempDir(), "k.db")
	s := storetest.Open(t, url)
	if err := s.MarkSchemaVersionForTest(context.Background(), migrations.Latest()+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := store.Open(context.Background(), store.Options{URL: url})
	if !errors.Is(err, migrations.ErrDatabaseTooNew) {
		t.Fatalf("got %v, want ErrDatabaseTooNew", err)
	}
}
