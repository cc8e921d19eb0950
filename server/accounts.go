package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/kabarchat/kabar/appservice"
	"github.com/kabarchat/kabar/clientapi"
	"github.com/kabarchat/kabar/clientapi/authn"
	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// The store satisfies the consumers' interfaces.
var (
	_ authn.Store      = (*store.Store)(nil)
	_ clientapi.Store  = (*store.Store)(nil)
	_ authn.TokenStore = (*store.Store)(nil)
)

// newAccounts builds the accounts service from the configuration.
func newAccounts(cfg *configs.Config, name spec.ServerName, st *store.Store, log *slog.Logger) (*authn.Service, error) {
	opts := authn.Options{
		Store:                st,
		ServerName:           name,
		AccessTokenLifetime:  cfg.Login.AccessTokenLifetime,
		RefreshTokenLifetime: cfg.Login.RefreshTokenLifetime,
		MinPasswordLength:    cfg.Registration.MinPasswordLength,
		RegistrationTokens:   cfg.Registration.Tokens,
		TokenStore:           st,
		Logger:               log,
	}
	regs, err := appservice.Load(cfg.AppServiceConfigFiles, name)
	if err != nil {
		return nil, fmt.Errorf("app_service_config_files: %w", err)
	}
	opts.AppServices = appservice.NewRegistry(regs)
	if j := cfg.Login.JWT; j.Enabled {
		jo := &authn.JWTOptions{Secret: []byte(j.Secret), Algorithms: j.Algorithms, Issuer: j.Issuer,
			Audiences: j.Audiences, SubjectClaim: j.SubjectClaim, AutoCreate: j.AutoCreate}
		if j.PublicKeyFile != "" {
			pem, err := os.ReadFile(j.PublicKeyFile)
			if err != nil {
				return nil, fmt.Errorf("login.jwt.public_key_file: %w", err)
			}
			if jo.PublicKey, err = authn.ParsePublicKeyPEM(pem); err != nil {
				return nil, fmt.Errorf("login.jwt.public_key_file: %w", err)
			}
		}
		opts.JWT = jo
	}
	svc, err := authn.New(opts)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	return svc, nil
}

func authnAccount(local, password string, admin bool) authn.NewAccount {
	return authn.NewAccount{Localpart: local, Password: password, Admin: admin}
}
