package store

import (
	"context"
	"fmt"
)

// CountRowsForTest counts the rows of a table; tests use it to prove how
// many rows an operation adds. The table name is never user input.
func (s *Store) CountRowsForTest(ctx context.Context, table string) (int64, error) {
	var n int64
	err := s.q(ctx).Table(table).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}
