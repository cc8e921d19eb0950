package main

import (
	"github.com/kabarchat/kabar/clientapi"
	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/models/store"
)

// The store satisfies the admin API's interfaces.
var _ clientapi.AdminStore = (*store.Store)(nil)

// voipOptions maps the voip section of the config.
func voipOptions(cfg *configs.Config) clientapi.VoIPOptions {
	v := cfg.VoIP
	return clientapi.VoIPOptions{URIs: v.TurnURIs, SharedSecret: v.TurnSharedSecret,
		Username: v.TurnUsername, Password: v.TurnPassword, TTL: v.TurnTTL}
}
