# Lanyard build and test entry points. `make test` and `make demo` install the
# system packages they need (apt) on a fresh Debian or Ubuntu machine.
SHELL     := /bin/bash
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)
# Release flags for every build, so the tests run what ships: -trimpath keeps
# build-machine paths out of binaries and messages, -s -w drops the symbol
# table and DWARF, PIE lets the loader randomise the address. VERSION and
# COMMIT come from git alone (no build time), so a rebuild of a commit is
# bit-for-bit the same.
LDFLAGS   := -s -w -X github.com/lanyard-app/lanyard/app/buildinfo.Version=$(VERSION) \
             -X github.com/lanyard-app/lanyard/app/buildinfo.Commit=$(COMMIT)
BUILDFLAGS := -trimpath -buildmode=pie
# The tray app's tags: no_animations stops Fyne fading a focused entry's
# cursor at the full frame rate (6 % of a core on software GL for a search
# box that waits; docs/benchmarks.md), and the cursor stays solid.
GUITAGS    := gui,no_animations
# Every package except the root one, the main package built three times
# (lanyard, the front; with the tag agent lanyard-agent, the full command
# line; with the tag gui lanyard-gui, which alone links Fyne's GL driver):
# -race there would pay the GUI's cold cgo build a second time.
PKGS       = $(shell $(GO) list ./... | grep -v '^github.com/lanyard-app/lanyard$$')
FUZZTIME  ?= 5s

.PHONY: all deps build lint-tools vet test bench demo emulator package package-test clean

# The token tests and benchmarks also run on tpm2-pkcs11 (see .ci/install-deps).
test bench: export WITH_TPM = 1

all: build

deps:
	@.ci/install-deps

# bin/lanyard is the front (app/front): it answers `version` and a warm
# credential-process itself and runs bin/lanyard-agent, the CLI and agent
# without any GUI library, for the rest. It is built CGO_ENABLED=0 and not
# as PIE: a static program with no loader, no shared library and no
# relocations starts in 1.3-1.5× a bare Go binary's time, where PIE's
# relocations alone cost it 0.6 ms (docs/benchmarks.md); for a memory-safe Go
# program that loses little, and the kernel still randomises its heap, stack
# and mmap areas. bin/lanyard-gui is the tray app, which `lanyard` (no
# command) and `lanyard demo` start.
build: deps
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/lanyard .
	$(GO) build $(BUILDFLAGS) -tags agent -ldflags "$(LDFLAGS)" -o bin/lanyard-agent .
	$(GO) build $(BUILDFLAGS) -tags $(GUITAGS) -ldflags "$(LDFLAGS)" -o bin/lanyard-gui .

# staticcheck, deadcode and the test reporter live in a module of their own
# (.ci/lint) so the application's go.sum lists only what it links.
lint-tools:
	cd .ci/lint && $(GO) build -o ../../bin/lint/ honnef.co/go/tools/cmd/staticcheck golang.org/x/tools/cmd/deadcode ./testreport

# gofmt, go vet, staticcheck, and deadcode: a function that neither the
# binaries nor any test reach is deleted, not kept. The full command line is
# the agent build (the default build of the root package is the front):
# deadcode reports what all three builds leave unreached.
vet: deps lint-tools
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags agent .
	$(GO) vet -tags gui .
	bin/lint/staticcheck ./...
	bin/lint/staticcheck -tags agent .
	bin/lint/staticcheck -tags gui .
	@dead=$$(comm -12 <(bin/lint/deadcode -test -tags agent ./... | sort) <(bin/lint/deadcode -test -tags gui ./... | sort) | \
	  comm -12 - <(bin/lint/deadcode -test ./... | sort)); \
	  test -z "$$dead" || { echo "$$dead"; echo "dead code (in every build): delete it or use it"; exit 1; }

# The race-enabled suite (SoftHSM and tpm2-pkcs11 tokens, the emulator, a
# real gnome-keyring, the AWS CLI, boto3 and the JavaScript SDK; in CI a test
# that skips for a missing part fails the run), the headless build's checks,
# the GUI smoke tests under Xvfb (the window; the tray menu over D-Bus; the
# tray in a real Xfce panel, clicked as a person does; all start the tray
# app through bin/lanyard), then every fuzz target for FUZZTIME.
test: vet build
	.ci/testenv .ci/gotest $(PKGS)
	.ci/testenv .ci/headless bin/lanyard
	.ci/testenv .ci/smoke bin/lanyard
	.ci/testenv .ci/tray-smoke bin/lanyard
	.ci/testenv .ci/xfce-smoke bin/lanyard
	FUZZTIME=$(FUZZTIME) .ci/testenv .ci/fuzz

# Benchmarks of the broker, the app and the GUI; docs/benchmarks.md says how
# to read them.
bench: build
	.ci/testenv .ci/bench
	.ci/testenv .ci/bench-gui bin/lanyard-gui
	.ci/testenv .ci/bench-gui-close bin/lanyard-gui

demo: build
	./bin/lanyard demo

emulator: build
	./bin/lanyard emulator

package: build
	WITH_PACKAGING=1 .ci/install-deps
	packaging/build.sh "$(VERSION)" "$(COMMIT)"

# Builds every package and checks what installing them gives (see
# packaging/test.sh), then runs the Windows build under Wine (.ci/wine-smoke).
package-test:
	WITH_PACKAGING=1 .ci/install-deps
	packaging/test.sh "$(VERSION)" "$(COMMIT)"
	.ci/testenv .ci/wine-smoke dist/windows-amd64

clean:
	rm -rf bin dist
