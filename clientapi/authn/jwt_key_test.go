package authn_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kabarchat/kabar/clientapi/authn"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// TestJWTPublicKey covers a PEM public key with a pinned asymmetric
// algorithm, and that an HMAC token "signed" with the public key bytes (the
// classic algorithm confusion) is refused.
func TestJWTPublicKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		der, _ := x509.MarshalPKIXPublicKey(pub)
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		key, err := authn.ParsePublicKeyPEM(pemBytes)
		if err != nil {
			t.Fatal(err)
		}
		svc := newService(t, s, func(o *authn.Options) {
			o.JWT = &authn.JWTOptions{PublicKey: key, Algorithms: []string{"EdDSA"}, SubjectClaim: "sub", AutoCreate: true}
		})
		claims := jwt.MapClaims{"sub": "erin", "exp": time.Now().Add(time.Hour).Unix()}
		good, _ := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims).SignedString(priv)
		if id, err := svc.LoginJWT(context.Background(), good); err != nil || id != "@erin:x.test" {
			t.Fatalf("EdDSA: %q %v", id, err)
		}
		confused, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(pemBytes)
		if _, err := svc.LoginJWT(context.Background(), confused); errcode(err) != "M_FORBIDDEN" {
			t.Fatalf("algorithm confusion: %v", err)
		}
		if _, err := authn.ParsePublicKeyPEM([]byte("nope")); err == nil {
			t.Fatal("garbage PEM accepted")
		}
	})
}
