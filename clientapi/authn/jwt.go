package authn

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kabarchat/kabar/models/spec"
)

// LoginTypeJWT is the login type of JWT login (Synapse's
// org.matrix.login.jwt, an unstable-prefixed extension).
const LoginTypeJWT = "org.matrix.login.jwt"

// JWTOptions configures org.matrix.login.jwt.
type JWTOptions struct {
	// Secret is the HMAC key for HS* algorithms.
	Secret []byte
	// PublicKey verifies RS*/PS*/ES*/EdDSA tokens.
	PublicKey crypto.PublicKey
	// Algorithms is the pinned list of accepted "alg" values; "none" is
	// never accepted.
	Algorithms []string
	Issuer     string
	Audiences  []string
	// SubjectClaim names the claim holding the localpart (or the full user
	// ID on this server).
	SubjectClaim string
	AutoCreate   bool
}

// jwtLeeway tolerates clock skew between the identity provider and us.
const jwtLeeway = 30 * time.Second

type jwtVerifier struct {
	opts   JWTOptions
	parser *jwt.Parser
}

func newJWTVerifier(o JWTOptions, now func() time.Time) (*jwtVerifier, error) {
	if len(o.Algorithms) == 0 {
		return nil, errors.New("jwt: no algorithms configured")
	}
	for _, a := range o.Algorithms {
		if strings.EqualFold(a, "none") {
			return nil, errors.New(`jwt: algorithm "none" is never allowed`)
		}
		if jwt.GetSigningMethod(a) == nil {
			return nil, fmt.Errorf("jwt: unknown algorithm %q", a)
		}
	}
	if o.SubjectClaim == "" {
		o.SubjectClaim = "sub"
	}
	popts := []jwt.ParserOption{
		jwt.WithValidMethods(o.Algorithms),
		jwt.WithLeeway(jwtLeeway),
		jwt.WithTimeFunc(now),
		// NOTSPEC: tokens without exp would be valid forever; refuse them.
		jwt.WithExpirationRequired(),
	}
	if o.Issuer != "" {
		popts = append(popts, jwt.WithIssuer(o.Issuer))
	}
	if len(o.Audiences) > 0 {
		popts = append(popts, jwt.WithAudience(o.Audiences...))
	}
	return &jwtVerifier{opts: o, parser: jwt.NewParser(popts...)}, nil
}

// key picks the verification key by the (already pinned) algorithm family,
// so an HMAC token is never checked against public key bytes.
func (v *jwtVerifier) key(t *jwt.Token) (any, error) {
	if _, ok := t.Method.(*jwt.SigningMethodHMAC); ok {
		if len(v.opts.Secret) == 0 {
			return nil, errors.New("no HMAC secret configured")
		}
		return v.opts.Secret, nil
	}
	if v.opts.PublicKey == nil {
		return nil, errors.New("no public key configured")
	}
	return v.opts.PublicKey, nil
}

// subject verifies the token and returns the subject claim's value.
func (v *jwtVerifier) subject(token string) (string, error) {
	claims := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(token, claims, v.key); err != nil {
		return "", err
	}
	sub, ok := claims[v.opts.SubjectClaim].(string)
	if !ok || sub == "" {
		return "", fmt.Errorf("claim %q missing or not a string", v.opts.SubjectClaim)
	}
	return sub, nil
}

// LoginJWT verifies a JWT and returns the local user it names, creating the
// account first when auto-create is on. Every failure is 403 M_FORBIDDEN
// (the reason is logged, not shown), except auto-creating a user ID an
// application service holds exclusively: 400 M_EXCLUSIVE, as Synapse.
func (s *Service) LoginJWT(ctx context.Context, token string) (spec.UserID, error) {
	if s.jwt == nil {
		return "", spec.NewError(400, spec.ErrUnknown, "JWT login is not enabled")
	}
	sub, err := s.jwt.subject(token)
	if err != nil {
		s.log.Info("JWT login refused", "reason", err.Error())
		return "", spec.Forbidden("invalid JWT")
	}
	local := sub
	if strings.HasPrefix(sub, "@") {
		id, err := spec.ParseUserID(sub)
		if err != nil || id.Server() != s.opts.ServerName {
			return "", spec.Forbidden("JWT subject is not a user of this server")
		}
		local = id.Localpart()
	}
	id, err := s.ValidateLocalpart(local)
	if err != nil {
		return "", spec.Forbidden("JWT subject is not a valid user name")
	}
	exists, err := s.store.UserExists(ctx, string(id))
	if err != nil {
		return "", err
	}
	if !exists {
		if !s.jwt.opts.AutoCreate {
			return "", spec.Forbidden("unknown user")
		}
		if _, err := s.CreateAccount(ctx, NewAccount{Localpart: local}); err != nil {
			var merr *spec.Error
			if !errors.As(err, &merr) || merr.Code != spec.ErrUserInUse {
				return "", err
			}
		}
	}
	if _, err := s.activeUser(ctx, id); err != nil {
		return "", err
	}
	return id, nil
}

// ParsePublicKeyPEM reads a PEM "PUBLIC KEY" (PKIX: RSA, ECDSA or Ed25519)
// for JWT verification.
func ParsePublicKeyPEM(data []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("jwt public key: no PEM block found")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("jwt public key: %w", err)
	}
	return key, nil
}
