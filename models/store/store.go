// Package store is Kabar's storage layer over *gorm.DB: one code path for
// SQLite and PostgreSQL, with driver errors mapped to ErrNotFound and
// ErrConflict so callers never see a driver type.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/migrations"
)

// Sentinel errors; test with errors.Is. They are models' sentinels so that
// packages which may not import GORM can test for them too.
var (
	ErrNotFound = models.ErrNotFound
	ErrConflict = models.ErrConflict
)

// Dialect names the database engine behind a Store.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Options configures Open.
type Options struct {
	// URL is a postgres:// URL or an SQLite file path.
	URL          string
	MaxOpenConns int
	Logger       *slog.Logger
}

// Store is the database handle shared by every table family.
type Store struct {
	db      *gorm.DB
	dialect Dialect
	log     *slog.Logger
}

// DialectOf tells which engine a database URL names.
func DialectOf(url string) Dialect {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return Postgres
	}
	return SQLite
}

// Open connects, tunes the connection and runs pending migrations.
func Open(ctx context.Context, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.MaxOpenConns < 1 {
		opts.MaxOpenConns = 10
	}
	dialect := DialectOf(opts.URL)
	var dialector gorm.Dialector
	switch dialect {
	case Postgres:
		dialector = postgres.Open(opts.URL)
	default:
		if dir := filepath.Dir(opts.URL); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("create database directory: %w", err)
			}
		}
		// WAL lets readers proceed while one connection writes; busy_timeout
		// makes a second writer wait instead of failing; _txlock=immediate
		// takes the write lock at BEGIN so a read-then-write transaction never
		// dies with SQLITE_BUSY half way.
		dialector = sqlite.Open(opts.URL + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
			"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 logger.Discard,
		TranslateError:         true,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB.SetMaxOpenConns(opts.MaxOpenConns)
	sqlDB.SetMaxIdleConns(opts.MaxOpenConns)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", dialect, err)
	}
	if err := migrations.Run(ctx, db, log); err != nil {
		sqlDB.Close()
		return nil, err
	}
	return &Store{db: db, dialect: dialect, log: log}, nil
}

// Close releases the connection pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Dialect reports the engine.
func (s *Store) Dialect() Dialect { return s.dialect }

// Ping checks the database is reachable (readiness probes).
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Transaction runs fn in one database transaction; fn receives a Store bound
// to it, so the same methods work inside and outside a transaction.
func (s *Store) Transaction(ctx context.Context, fn func(tx *Store) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&Store{db: tx, dialect: s.dialect, log: s.log})
	})
}

// q returns the handle for one query.
func (s *Store) q(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// mapErr turns driver errors into the store's sentinels, with context.
func mapErr(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey), isUniqueViolation(err):
		return fmt.Errorf("%s: %w", what, ErrConflict)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}

// isUniqueViolation catches drivers whose error translation misses a case.
func isUniqueViolation(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505")
}
