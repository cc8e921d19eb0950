package main

import "github.com/kabarchat/kabar/federation/openid"

// newOpenID builds the OpenID token store. Tokens are checked on the
// federation listener (/openid/userinfo), so without one there is nobody
// to check them and the client endpoint is left out too (nil).
func newOpenID(fed *federationPart) *openid.Tokens {
	if fed.receiver == nil {
		return nil
	}
	tokens := openid.New(openid.DefaultTTL, nil)
	fed.receiver.RegisterOpenID(fed.echo, tokens)
	return tokens
}
