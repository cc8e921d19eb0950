package main

import (
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/kabarchat/kabar/clientapi"
	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/media"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// newMedia builds the content repository and the client API's media options.
// Remote media is fetched through the federation client.
func newMedia(cfg *configs.Config, serverName spec.ServerName, st *store.Store, remote media.RemoteFetcher, uploads echoserver.Limiter, log *slog.Logger) (*media.Repo, clientapi.MediaOptions, error) {
	var allow []netip.Prefix
	for _, n := range cfg.Media.OutboundAllowNetworks {
		p, err := netip.ParsePrefix(n)
		if err != nil {
			return nil, clientapi.MediaOptions{}, fmt.Errorf("media.outbound_allow_networks: %w", err)
		}
		allow = append(allow, p)
	}
	repo, err := media.New(media.Options{
		ServerName:         serverName,
		Store:              st,
		Root:               cfg.MediaPath(),
		MaxUploadBytes:     cfg.Media.MaxUploadBytes,
		MaxThumbnailPixels: cfg.Media.MaxThumbnailPixels,
		MaxBytesPerUser:    cfg.Media.MaxBytesPerUser,
		RemoteRetention:    cfg.Media.RemoteCacheRetention,
		OutboundAllow:      allow,
		Remote:             remote,
		Logger:             log.With("component", "media"),
	})
	if err != nil {
		return nil, clientapi.MediaOptions{}, err
	}
	opts := clientapi.MediaOptions{Repo: repo, URLPreviews: cfg.Media.URLPreviews, UploadLimiter: uploads}
	if cfg.Media.LegacyUnauthenticated == configs.MediaLegacyFreeze {
		opts.LegacyFrozenAfter = 1 // everything, unless a freeze time is set
		if cfg.Media.LegacyFreezeTime != "" {
			t, err := time.Parse(time.RFC3339, cfg.Media.LegacyFreezeTime)
			if err != nil {
				return nil, clientapi.MediaOptions{}, fmt.Errorf("media.legacy_freeze_time: %w", err)
			}
			opts.LegacyFrozenAfter = max(1, t.UnixMilli())
		}
	}
	return repo, opts, nil
}
