package authn_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kabarchat/kabar/clientapi/authn"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

var fastArgon = authn.Argon2Params{Memory: 1024, Time: 1, Threads: 1}

func TestPasswordHash(t *testing.T) {
	long := strings.Repeat("päss", 1000) // far beyond bcrypt's 72 bytes
	for _, pw := range []string{"", "hunter22", long} {
		h, err := authn.HashPassword(pw, fastArgon)
		if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
			t.Fatalf("hash %q: %v", h, err)
		}
		if ok, err := authn.VerifyPassword(pw, h); !ok || err != nil {
			t.Fatalf("verify own password: %v %v", ok, err)
		}
		if ok, _ := authn.VerifyPassword(pw+"x", h); ok {
			t.Fatal("wrong password accepted")
		}
	}
	// A long password differing only after byte 72 is a different password.
	h, _ := authn.HashPassword(long, fastArgon)
	if ok, _ := authn.VerifyPassword(long[:100], h); ok {
		t.Fatal("truncated password accepted")
	}
	for _, bad := range []string{"", "$argon2id$", "$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=99999999,t=1,p=1$YWFhYWFhYWE$YWFhYWFhYWFhYWFhYWFhYQ"} {
		if _, err := authn.VerifyPassword("x", bad); !errors.Is(err, authn.ErrBadHash) {
			t.Errorf("bad hash %q: %v", bad, err)
		}
	}
}

func newService(t *testing.T, s *store.Store, mutate func(*authn.Options)) *authn.Service {
	opts := authn.Options{Store: s, ServerName: "x.test", Argon2: fastArgon, MinPasswordLength: 8,
		RegistrationTokens: []string{"tok1"}, AccessTokenLifetime: time.Minute}
	if mutate != nil {
		mutate(&opts)
	}
	svc, err := authn.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func errcode(err error) spec.Errcode {
	var merr *spec.Error
	if errors.As(err, &merr) {
		return merr.Code
	}
	return ""
}

func TestSessionsAndRevocation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now()
		svc := newService(t, s, func(o *authn.Options) { o.Now = func() time.Time { return now } })
		id, err := svc.CreateAccount(ctx, authn.NewAccount{Localpart: "ann", Password: "password1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateAccount(ctx, authn.NewAccount{Localpart: "ann"}); errcode(err) != spec.ErrUserInUse {
			t.Fatalf("duplicate: %v", err)
		}
		if _, err := svc.CheckPassword(ctx, id, "wrong"); errcode(err) != spec.ErrForbidden {
			t.Fatalf("wrong password: %v", err)
		}
		a, _ := svc.StartSession(ctx, authn.LoginRequest{UserID: id})
		b, _ := svc.StartSession(ctx, authn.LoginRequest{UserID: id, WantRefresh: true})
		for i := 0; i < 2; i++ { // second round is served from the cache
			if sess, err := svc.Authenticate(ctx, a.AccessToken); err != nil || sess.UserID != string(id) {
				t.Fatalf("auth: %+v %v", sess, err)
			}
		}
		// Expiry -> soft logout for a refreshable session.
		now = now.Add(2 * time.Minute)
		if _, err := svc.Authenticate(ctx, b.AccessToken); err == nil || !err.(*spec.Error).SoftLogout {
			t.Fatalf("expired: %v", err)
		}
		c, err := svc.Refresh(ctx, b.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Authenticate(ctx, c.AccessToken); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Refresh(ctx, b.RefreshToken); errcode(err) != spec.ErrUnknownToken {
			t.Fatalf("old refresh token after successor used: %v", err)
		}
		if err := svc.DeleteDevices(ctx, string(id), []string{a.DeviceID}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Authenticate(ctx, a.AccessToken); errcode(err) != spec.ErrUnknownToken {
			t.Fatalf("revoked token still works: %v", err)
		}
		if err := svc.Deactivate(ctx, string(id)); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Authenticate(ctx, c.AccessToken); errcode(err) != spec.ErrUnknownToken {
			t.Fatalf("token of deactivated user: %v", err)
		}
		if _, err := svc.CheckPassword(ctx, id, "password1"); errcode(err) != spec.ErrForbidden {
			t.Fatalf("deactivated login: %v", err)
		}
	})
}

func TestUIA(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := newService(t, s, nil)
		svc.CreateAccount(ctx, authn.NewAccount{Localpart: "ann", Password: "password1"})
		req := authn.UIARequest{Purpose: "p", UserID: "@ann:x.test", Flows: [][]string{{authn.StagePassword}}}
		var ch *authn.Challenge
		if err := svc.UIA(ctx, req); !errors.As(err, &ch) || ch.Failed != nil || ch.Session == "" {
			t.Fatalf("first: %v", err)
		}
		step := func(auth map[string]any) error {
			r := req
			r.Auth, _ = json.Marshal(auth)
			return svc.UIA(ctx, r)
		}
		err := step(map[string]any{"type": authn.StagePassword, "session": ch.Session, "password": "nope",
			"identifier": map[string]any{"type": "m.id.user", "user": "ann"}})
		var failed *authn.Challenge
		if !errors.As(err, &failed) || failed.Failed == nil || failed.Failed.Code != spec.ErrForbidden {
			t.Fatalf("wrong password: %v", err)
		}
		if err := step(map[string]any{"type": authn.StageDummy, "session": ch.Session}); !errors.As(err, &failed) || failed.Failed == nil {
			t.Fatalf("stage not offered: %v", err)
		}
		ok := map[string]any{"type": authn.StagePassword, "session": ch.Session, "password": "password1",
			"identifier": map[string]any{"type": "m.id.user", "user": "@ann:x.test"}}
		if err := step(ok); err != nil {
			t.Fatalf("right password: %v", err)
		}
		if err := step(ok); errcode(err) != spec.ErrUnknown {
			t.Fatalf("spent session reused: %v", err)
		}
		reg := authn.UIARequest{Purpose: "register", Flows: [][]string{{authn.StageRegistrationToken}}}
		reg.Auth = json.RawMessage(`{"type":"m.login.registration_token","token":"tok1"}`)
		if err := svc.UIA(ctx, reg); err != nil {
			t.Fatalf("token stage: %v", err)
		}
		reg.Auth = json.RawMessage(`{"type":"m.login.registration_token","token":"tok2"}`)
		if err := svc.UIA(ctx, reg); !errors.As(err, &failed) || failed.Failed.Code != spec.ErrUnauthorized {
			t.Fatalf("bad token: %v", err)
		}
	})
}

func TestJWT(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		secret := []byte("0123456789abcdef0123456789abcdef")
		svc := newService(t, s, func(o *authn.Options) {
			o.JWT = &authn.JWTOptions{Secret: secret, Algorithms: []string{"HS256"}, Issuer: "idp",
				Audiences: []string{"kabar"}, SubjectClaim: "preferred_username", AutoCreate: true}
		})
		sign := func(alg jwt.SigningMethod, key any, claims jwt.MapClaims) string {
			tok, err := jwt.NewWithClaims(alg, claims).SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		now := time.Now()
		good := func() jwt.MapClaims {
			return jwt.MapClaims{"preferred_username": "carol", "iss": "idp", "aud": "kabar", "exp": now.Add(time.Hour).Unix()}
		}
		with := func(k string, v any) jwt.MapClaims { c := good(); c[k] = v; return c }
		none := sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good())
		cases := []struct {
			name, token string
			ok          bool
		}{
			{"good", sign(jwt.SigningMethodHS256, secret, good()), true},
			{"full user id", sign(jwt.SigningMethodHS256, secret, with("preferred_username", "@carol:x.test")), true},
			{"none", none, false},
			{"HS512 not pinned", sign(jwt.SigningMethodHS512, secret, good()), false},
			{"wrong key", sign(jwt.SigningMethodHS256, []byte("other-secret-other-secret-other!"), good()), false},
			{"expired", sign(jwt.SigningMethodHS256, secret, with("exp", now.Add(-time.Hour).Unix())), false},
			{"no exp", sign(jwt.SigningMethodHS256, secret, with("exp", nil)), false},
			{"not yet valid", sign(jwt.SigningMethodHS256, secret, with("nbf", now.Add(time.Hour).Unix())), false},
			{"wrong issuer", sign(jwt.SigningMethodHS256, secret, with("iss", "evil")), false},
			{"wrong audience", sign(jwt.SigningMethodHS256, secret, with("aud", "other")), false},
			{"remote user", sign(jwt.SigningMethodHS256, secret, with("preferred_username", "@carol:evil.test")), false},
			{"bad localpart", sign(jwt.SigningMethodHS256, secret, with("preferred_username", "Carol!")), false},
			{"garbage", "not.a.jwt", false},
		}
		for _, tc := range cases {
			id, err := svc.LoginJWT(ctx, tc.token)
			if tc.ok && (err != nil || id != "@carol:x.test") {
				t.Errorf("%s: %q %v", tc.name, id, err)
			}
			if !tc.ok && errcode(err) != spec.ErrForbidden {
				t.Errorf("%s: want M_FORBIDDEN, got %q %v", tc.name, id, err)
			}
		}
	})
}
