package store

import (
	"context"
	"time"
)

// MarkSchemaVersionForTest records a schema version row; tests use it to
// simulate a database written by a newer Kabar.
func (s *Store) MarkSchemaVersionForTest(ctx context.Context, version int) error {
	return s.q(ctx).Exec("INSERT INTO kabar_schema_versions (version, name, applied_at) VALUES (?, ?, ?)",
		version, "future", time.Now().UnixMilli()).Error
}
