package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

func mkUser(t *testing.T, s *store.Store, id string) {
	t.Helper()
	err := s.CreateUser(context.Background(), &models.User{UserID: id, Localpart: id[1:4], PasswordHash: "h", CreatedAt: 1},
		&models.Profile{UserID: id, DisplayName: id[1:4]})
	if err != nil {
		t.Fatal(err)
	}
}

func mkSession(t *testing.T, s *store.Store, user, device, tok, refresh string) {
	t.Helper()
	var rt *models.RefreshToken
	if refresh != "" {
		rt = &models.RefreshToken{TokenHash: refresh, UserID: user, DeviceID: device, CreatedAt: 1}
	}
	err := s.CreateSession(context.Background(), models.Device{UserID: user, DeviceID: device, CreatedAt: 1},
		models.AccessToken{TokenHash: tok, UserID: user, DeviceID: device, RefreshTokenHash: refresh, CreatedAt: 1}, rt)
	if err != nil {
		t.Fatal(err)
	}
}

func TestUsersAndProfiles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		mkUser(t, s, "@ann:x")
		err := s.CreateUser(ctx, &models.User{UserID: "@ann:x", Localpart: "ann"}, &models.Profile{UserID: "@ann:x"})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate user: %v", err)
		}
		if _, err := s.GetUser(ctx, "@bob:x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing user: %v", err)
		}
		if err := s.SetProfileField(ctx, "@ann:x", "avatar_url", "mxc://x/a"); err != nil {
			t.Fatal(err)
		}
		p, err := s.GetProfile(ctx, "@ann:x")
		if err != nil || p.DisplayName != "ann" || p.AvatarURL != "mxc://x/a" {
			t.Fatalf("profile %+v %v", p, err)
		}
		mkSession(t, s, "@ann:x", "D1", "t1", "")
		if err := s.DeactivateUser(ctx, "@ann:x"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetAccessToken(ctx, "t1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("token after deactivation: %v", err)
		}
		if ok, _ := s.UserExists(ctx, "@ann:x"); !ok {
			t.Fatal("deactivated user row must stay")
		}
	})
}

func TestDevicesAndTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		mkUser(t, s, "@ann:x")
		mkSession(t, s, "@ann:x", "D1", "t1", "")
		mkSession(t, s, "@ann:x", "D2", "t2", "")
		mkSession(t, s, "@ann:x", "D3", "t3", "")
		// Re-login on D1 revokes t1.
		mkSession(t, s, "@ann:x", "D1", "t1b", "")
		if _, err := s.GetAccessToken(ctx, "t1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("old token of reused device: %v", err)
		}
		if err := s.DeleteDevices(ctx, "@ann:x", []string{"D2", "nope"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetAccessToken(ctx, "t2"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("token of deleted device: %v", err)
		}
		if err := s.DeleteAllDevices(ctx, "@ann:x", "D1"); err != nil {
			t.Fatal(err)
		}
		ds, err := s.ListDevices(ctx, "@ann:x")
		if err != nil || len(ds) != 1 || ds[0].DeviceID != "D1" {
			t.Fatalf("devices %+v %v", ds, err)
		}
		if ti, err := s.GetAccessToken(ctx, "t1b"); err != nil || ti.Token.DeviceID != "D1" {
			t.Fatalf("kept token: %+v %v", ti, err)
		}
		if err := s.RenameDevice(ctx, "@ann:x", "D9", "n"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rename unknown: %v", err)
		}
	})
}

func TestRefreshRotation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		mkUser(t, s, "@ann:x")
		mkSession(t, s, "@ann:x", "D1", "a1", "r1")
		rotate := func(old, a, r string) error {
			return s.RotateRefreshToken(ctx, old,
				&models.RefreshToken{TokenHash: r, UserID: "@ann:x", DeviceID: "D1", PrevTokenHash: old, CreatedAt: 2},
				&models.AccessToken{TokenHash: a, UserID: "@ann:x", DeviceID: "D1", RefreshTokenHash: r, CreatedAt: 2})
		}
		if err := rotate("r1", "a2", "r2"); err != nil {
			t.Fatal(err)
		}
		// Until a2 or r2 is used, a1 and r1 still work.
		ti, err := s.GetAccessToken(ctx, "a2")
		if err != nil || ti.PrevRefresh != "r1" {
			t.Fatalf("a2: %+v %v", ti, err)
		}
		if _, err := s.GetAccessToken(ctx, "a1"); err != nil {
			t.Fatalf("a1 before successor use: %v", err)
		}
		if err := s.RevokePredecessor(ctx, "r2"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetAccessToken(ctx, "a1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a1 after successor use: %v", err)
		}
		if err := rotate("r1", "a3", "r3"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("reuse of r1: %v", err)
		}
		// Using r2 directly revokes nothing more but rotates again.
		if err := rotate("r2", "a3", "r3"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestLoginTokensAndAccountData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		mkUser(t, s, "@ann:x")
		now := time.Now()
		s.CreateLoginToken(ctx, &models.LoginToken{TokenHash: "l1", UserID: "@ann:x", ExpiresAt: now.Add(time.Minute).UnixMilli()})
		s.CreateLoginToken(ctx, &models.LoginToken{TokenHash: "l2", UserID: "@ann:x", ExpiresAt: now.Add(-time.Minute).UnixMilli()})
		if u, err := s.ConsumeLoginToken(ctx, "l1", now); err != nil || u != "@ann:x" {
			t.Fatalf("consume: %q %v", u, err)
		}
		for _, h := range []string{"l1", "l2", "zz"} {
			if _, err := s.ConsumeLoginToken(ctx, h, now); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("consume %s: %v", h, err)
			}
		}
		if err := s.PutAccountData(ctx, "@ann:x", "", "m.test", `{"a":1}`, 1); err != nil {
			t.Fatal(err)
		}
		if err := s.PutAccountData(ctx, "@ann:x", "", "m.test", `{"a":2}`, 2); err != nil {
			t.Fatal(err)
		}
		if err := s.PutAccountData(ctx, "@ann:x", "!r:x", "m.test", `{"r":1}`, 3); err != nil {
			t.Fatal(err)
		}
		if c, err := s.GetAccountData(ctx, "@ann:x", "", "m.test"); err != nil || c != `{"a":2}` {
			t.Fatalf("global: %q %v", c, err)
		}
		if c, err := s.GetAccountData(ctx, "@ann:x", "!r:x", "m.test"); err != nil || c != `{"r":1}` {
			t.Fatalf("room: %q %v", c, err)
		}
		if _, err := s.GetAccountData(ctx, "@ann:x", "", "m.none"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing: %v", err)
		}
	})
}
