package authn_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kabarchat/kabar/appservice"
	"github.com/kabarchat/kabar/clientapi/authn"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

const bridgeYAML = `id: bridge
url: null
as_token: as-secret
hs_token: hs-secret
sender_localpart: bridgebot
namespaces:
  users:
    - exclusive: true
      regex: "@bridge_.*"
    - exclusive: false
      regex: "@shared_.*"
`

// TestExclusiveNamespaceOnEveryCreate checks that no path creating an
// account other than the application service itself can take a user ID in
// its exclusive namespace (or its sender): registration, JWT auto-create,
// shared-secret/admin registration and the CLI all go through
// CreateAccount.
func TestExclusiveNamespaceOnEveryCreate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		reg, err := appservice.Parse([]byte(bridgeYAML), "x.test")
		if err != nil {
			t.Fatal(err)
		}
		secret := []byte("0123456789abcdef0123456789abcdef")
		svc := newService(t, s, func(o *authn.Options) {
			o.AppServices = appservice.NewRegistry([]*appservice.Registration{reg})
			o.JWT = &authn.JWTOptions{Secret: secret, Algorithms: []string{"HS256"}, SubjectClaim: "sub", AutoCreate: true}
		})
		cases := []struct {
			na   authn.NewAccount
			want spec.Errcode // "" = created
		}{
			{authn.NewAccount{Localpart: "bridge_alice", Password: "password1"}, spec.ErrExclusive},
			{authn.NewAccount{Localpart: "bridge_admin", Admin: true}, spec.ErrExclusive},
			{authn.NewAccount{Localpart: "bridgebot"}, spec.ErrExclusive},
			{authn.NewAccount{Localpart: "shared_bob", Password: "password1"}, ""}, // non-exclusive
			{authn.NewAccount{Localpart: "alice_bridge_x"}, ""},                    // anchored at the start
			{authn.NewAccount{Localpart: "bridge_carol", AppService: reg}, ""},     // the service itself
		}
		for _, tc := range cases {
			_, err := svc.CreateAccount(ctx, tc.na)
			if errcode(err) != tc.want || (tc.want == "" && err != nil) {
				t.Errorf("create %s (as=%v): %v, want %q", tc.na.Localpart, tc.na.AppService != nil, err, tc.want)
			}
		}
		var merr *spec.Error
		if _, err := svc.CreateAccount(ctx, authn.NewAccount{Localpart: "bridge_dave"}); !errors.As(err, &merr) || merr.Status != 400 {
			t.Errorf("exclusive: want 400, got %v", err)
		}
		// Query-created users and the sender are made for the service.
		for _, id := range []spec.UserID{"@bridge_erin:x.test", reg.Sender} {
			if err := svc.CreateAppServiceUser(ctx, id); err != nil {
				t.Errorf("CreateAppServiceUser %s: %v", id, err)
			}
		}

		sign := func(sub string) string {
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": sub, "exp": time.Now().Add(time.Hour).Unix()}).SignedString(secret)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		// JWT auto-create may not take an exclusive ID...
		if id, err := svc.LoginJWT(ctx, sign("bridge_frank")); errcode(err) != spec.ErrExclusive {
			t.Errorf("JWT auto-create in exclusive namespace: %q %v", id, err)
		}
		if ok, _ := svc.UserExists(ctx, "@bridge_frank:x.test"); ok {
			t.Error("JWT auto-create made an exclusive user")
		}
		// ... but logs in an existing one, and creates others.
		if id, err := svc.LoginJWT(ctx, sign("bridge_erin")); err != nil || id != "@bridge_erin:x.test" {
			t.Errorf("JWT login of existing bridge user: %q %v", id, err)
		}
		if id, err := svc.LoginJWT(ctx, sign("grace")); err != nil || id != "@grace:x.test" {
			t.Errorf("JWT auto-create: %q %v", id, err)
		}
	})
}
