package main

import (
	"context"
	"testing"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// unprocess makes the database look as if the push worker stopped before
// evaluating event eventID: its notifications and the worker's position are
// rolled back to just before it.
func unprocess(t *testing.T, dbURL string, eventID id.EventID) {
	t.Helper()
	dial := sqlite.Open(dbURL)
	if store.DialectOf(dbURL) == store.Postgres {
		dial = postgres.Open(dbURL)
	}
	db, err := gorm.Open(dial, &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	}()
	var pos int64
	if err := db.Raw("SELECT stream_pos FROM events WHERE event_id = ?", eventID.String()).Scan(&pos).Error; err != nil || pos == 0 {
		t.Fatalf("stream position of %s: %d, %v", eventID, pos, err)
	}
	if err := db.Exec("DELETE FROM notifications WHERE stream_pos >= ?", pos).Error; err != nil {
		t.Fatal(err)
	}
	res := db.Exec("UPDATE worker_positions SET pos = ? WHERE name = ?", pos-1, "push_notifications")
	if res.Error != nil || res.RowsAffected != 1 {
		t.Fatalf("rewind worker position: %d rows, %v", res.RowsAffected, res.Error)
	}
}

// TestPushResumesAfterRestart: an event committed but not yet evaluated
// when the server stopped is evaluated after the restart, so its
// notification counts in /sync.
func TestPushResumesAfterRestart(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			dataDir := t.TempDir()
			ts, stop := startStoppable(t, db.URL, dataDir)
			alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
			room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", IsDirect: true, Invite: []id.UserID{bob.UserID}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := bob.JoinRoom(ctx, room.RoomID.String(), nil); err != nil {
				t.Fatal(err)
			}
			_, since := unreadIn(t, ts, bob.AccessToken, "", room.RoomID)
			if _, err := alice.SendText(ctx, room.RoomID, "first"); err != nil {
				t.Fatal(err)
			}
			second, err := alice.SendText(ctx, room.RoomID, "second")
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := unreadIn(t, ts, bob.AccessToken, since, room.RoomID); got != (unread{2, 0}) {
				t.Fatalf("before restart: %+v, want 2/0", got)
			}
			stop()
			unprocess(t, db.URL, second.EventID)
			ts, _ = startStoppable(t, db.URL, dataDir)
			if got, _ := unreadIn(t, ts, bob.AccessToken, "", room.RoomID); got != (unread{2, 0}) {
				t.Fatalf("after restart: %+v, want 2/0 (the unprocessed message counted once)", got)
			}
		})
	}
}
