# Kabar: `make run` builds and starts the server, `make test` runs every test.
GO ?= go
BIN := bin/kabar
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.Version=$(VERSION)

.PHONY: all build run test vet fmt bench clean web web-test interop-dendrite interop-synapse

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./server

# The web client is built first when npm is available; without it the binary
# serves a page explaining how to build the client.
NPM := $(shell command -v npm 2>/dev/null)

run: $(if $(NPM),web) build
	./$(BIN) serve

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	$(GO) vet ./...

# Runs the SQLite half always, and the PostgreSQL half when KABAR_TEST_POSTGRES
# is set (for example postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable).
# The second line runs the E2EE tests with mautrix's pure-Go Olm (build tag goolm).
test: vet
	$(GO) test -count=1 -timeout 30m ./...
	CGO_ENABLED=0 $(GO) test -count=1 -timeout 2m -tags goolm -run 'TestE2EEClients' ./server

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3s ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin web/dist/client

# Web client (web/): install the locked packages and build into web/dist/client,
# which the Go binary embeds. Rebuild the binary afterwards (make build).
web:
	cd web && npm ci && npm run build

# Web client tests: Vitest unit tests, then the Playwright end-to-end tests
# (run.mjs, and calls.mjs for 1:1 calls with fake camera and microphone)
# against a freshly built bin/kabar with the client embedded (needs Chromium
# at /usr/bin/chromium; screenshots land in web/test-results/).
web-test: web build
	cd web && npx vitest run && node e2e/run.mjs && node e2e/calls.mjs

# Interop test against a real Dendrite (Apache-2.0, matrix-org/dendrite
# v0.13.8), not part of `make test`. The tools are installed into bin/tools
# with `go install pkg@version` from a temporary directory, outside Kabar's
# module, so go.mod is untouched; Dendrite's SQLite driver needs CGO (gcc).
DENDRITE := github.com/matrix-org/dendrite
DENDRITE_VERSION := v0.13.8

interop-dendrite:
	cd $${TMPDIR:-/tmp} && CGO_ENABLED=1 GOBIN=$(CURDIR)/bin/tools $(GO) install \
		$(DENDRITE)/cmd/dendrite@$(DENDRITE_VERSION) \
		$(DENDRITE)/cmd/generate-config@$(DENDRITE_VERSION) \
		$(DENDRITE)/cmd/generate-keys@$(DENDRITE_VERSION)
	KABAR_INTEROP_DENDRITE=$(CURDIR)/bin/tools/dendrite $(GO) test -count=1 -timeout 10m -run TestInteropDendrite -v ./server

# Interop test against a real Synapse (AGPL-3.0, element-hq/synapse), not part
# of `make test`: Debian sid's matrix-synapse (1.160.0 when written) in a
# minimal sid chroot in bin/tools/synapse-sid, since Synapse does not install
# on the host's Debian release. Needs root (debootstrap, chroot) and the
# debootstrap package; the first run downloads and installs ~600 MB in about
# 5 minutes, later runs reuse the chroot (rebuilt when Synapse does not
# import). Nothing is mounted into it. python3-cffi-backend is listed because
# debootstrap's resolver does not follow python3-cryptography's dependency on
# the virtual python3-cffi-backend-api-* packages. The end-to-end encryption
# scenario (TestInteropSynapseE2EE) drives mautrix clients with the pure-Go
# Olm, which needs the goolm tag, so it runs as a second test binary.
SYNAPSE_ROOT := $(CURDIR)/bin/tools/synapse-sid

interop-synapse:
	@if ! chroot $(SYNAPSE_ROOT) python3 -c 'import synapse' 2>/dev/null; then \
		echo "creating the Synapse chroot in $(SYNAPSE_ROOT)"; \
		rm -rf $(SYNAPSE_ROOT) && \
		debootstrap --variant=minbase --include=matrix-synapse,python3-jwt,python3-cffi-backend sid $(SYNAPSE_ROOT) || exit 1; \
	fi
	KABAR_INTEROP_SYNAPSE=$(SYNAPSE_ROOT) $(GO) test -count=1 -timeout 15m -run 'TestInteropSynapse$$' -v ./server
	KABAR_INTEROP_SYNAPSE=$(SYNAPSE_ROOT) CGO_ENABLED=0 $(GO) test -tags goolm -count=1 -timeout 10m \
		-run TestInteropSynapseE2EE -v ./server
