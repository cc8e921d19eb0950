package main

import (
	"log/slog"

	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/federation/spaces"
)

// newSpaces builds the space hierarchy service: the client API's
// /hierarchy and, with federation served, the federation /hierarchy.
func newSpaces(fed *federationPart, roomSvc *rooms.Service, log *slog.Logger) *spaces.Service {
	svc := spaces.New(spaces.Options{ServerName: fed.serverName, Rooms: roomSvc, Client: fed.client, Logger: log})
	if fed.receiver != nil {
		fed.receiver.RegisterHierarchy(fed.echo, svc)
	}
	return svc
}
