# Passline. `make demo` runs the whole system on embedded brokers; `make test`
# runs every test. See README.md.

GO        ?= go
BIN       ?= bin
DIST      ?= dist
PKGS      ?= ./...
TESTFLAGS ?= -race -timeout 15m
PROGRAMS  := passline-agent passline-cloud passline-bridge

.PHONY: all help build cross test vet fmt-check demo clean fuzz \
	bench-agent bench-cloud bench-bridge eval crash-agent test-cloud-scale eval-check sim alerts browser bench chaos chaos-short broker-restart chaos-platform

## all: the default target, same as build
all: build

## help: every target with what it does, from the `## target:` comments in this Makefile
help:
	@awk '/^## [a-z0-9-]+: / { t = substr($$2, 1, length($$2) - 1); sub(/^## [a-z0-9-]+: /, ""); printf "  %-17s %s\n", t, $$0; more = 1; next } \
	     /^## / && more { sub(/^## /, ""); printf "  %-17s %s\n", "", $$0; next } { more = 0 }' $(firstword $(MAKEFILE_LIST))

## build: the three programs into ./bin
build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/passline-agent ./agent/cmd/passline-agent
	$(GO) build -o $(BIN)/passline-cloud ./cloud/cmd/passline-cloud
	$(GO) build -o $(BIN)/passline-bridge ./firmware-bridge/cmd/passline-bridge

## cross: static agent and bridge for the in-store boxes (linux/arm64, linux/arm v7)
cross:
	@mkdir -p $(DIST)
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags='-s -w' -o $(DIST)/linux-arm64/passline-agent ./agent/cmd/passline-agent
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags='-s -w' -o $(DIST)/linux-arm64/passline-bridge ./firmware-bridge/cmd/passline-bridge
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags='-s -w' -o $(DIST)/linux-armv7/passline-agent ./agent/cmd/passline-agent
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags='-s -w' -o $(DIST)/linux-armv7/passline-bridge ./firmware-bridge/cmd/passline-bridge
	@file $(DIST)/*/* 2>/dev/null || ls -l $(DIST)/*/*

## test: formatting, vet, and every test with the race detector
test: fmt-check vet
	$(GO) test $(TESTFLAGS) $(PKGS)

## vet: go vet on every package
vet:
	$(GO) vet $(PKGS)

## fmt-check: fail when any Go file needs gofmt
fmt-check:
	@out=$$(gofmt -l . | grep -v '^vendor/'); if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## fuzz: a short run of every fuzz target (FUZZTIME each)
FUZZTIME ?= 10s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test $$pkg -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; \
	  done; \
	done

## demo: the whole system on embedded brokers with a simulated kitchen; Ctrl-C stops it
demo: build
	@bash -c 'set -u; \
	rm -rf .demo; mkdir -p .demo; \
	pids=""; \
	stop() { trap - INT TERM EXIT; echo; echo "stopping..."; \
	  for p in $$pids; do kill -TERM $$p 2>/dev/null; done; \
	  for p in $$pids; do wait $$p 2>/dev/null; done; echo "stopped; logs in .demo/"; exit 0; }; \
	trap stop INT TERM EXIT; \
	echo "Passline demo: cloud, agent (store demo-1) and a simulated kitchen (real time, short dishes)."; \
	echo "Pass board http://127.0.0.1:18070/  cloud http://127.0.0.1:18080/  logs in .demo/  Ctrl-C stops."; \
	echo "Rider notifications:"; \
	$(BIN)/passline-cloud run -config configs/demo/cloud.yaml >.demo/cloud.log 2>&1 & pids="$$pids $$!"; \
	$(BIN)/passline-cloud tail -nats nats://127.0.0.1:14222 & pids="$$pids $$!"; \
	$(BIN)/passline-agent run -config configs/demo/agent.yaml >.demo/agent.log 2>&1 & pids="$$pids $$!"; \
	$(BIN)/passline-bridge run -config configs/demo/bridge.yaml >.demo/bridge.log 2>&1 & pids="$$pids $$!"; \
	wait'

## bench-agent: raw paho QoS 1 rate vs agent ingest, bump -> JetStream ack latency
bench-agent:
	$(GO) test ./agent/... -run '^$$' -bench . -benchtime 1x -tags bench -timeout 20m

## bench-cloud: raw JetStream consume+ack, the fair baseline and the relay (1 and 2 replicas; P = 1 and 4 on a 3-node cluster), with CPU per message; writes its section of BENCHMARKS.md
bench-cloud:
	$(GO) test ./cloud/... -run '^$$' -bench . -benchtime 1x -tags bench -timeout 20m

## bench-bridge: print proxy added latency and throughput vs a direct connection
bench-bridge:
	$(GO) test ./firmware-bridge/... -run '^$$' -bench . -tags bench -timeout 20m

## eval: the prep-time model on the shared kitchen history and on the sparse marketplace
HISTORY ?= ../shared/data/kitchen-history-a.csv.gz
SPARSE ?= agent/testdata/sparse-marketplace.csv.gz
eval:
	$(GO) run ./agent/cmd/passline-agent model eval --quiet --history $(HISTORY)
	$(GO) run ./agent/cmd/passline-agent model eval --quiet --history $(SPARSE) --drop-under 1m --drop-over 2h

## clean: remove bin/, dist/ and .demo/
clean:
	rm -rf $(BIN) $(DIST) .demo

## test-cloud-scale: the relay scale-out test at full size (10,000 decisions, node and relay killed)
test-cloud-scale:
	PASSLINE_SCALE_N=10000 $(GO) test -count=1 -run TestScaleOutExactlyOnce -v -timeout 20m ./cloud/app/

## crash-agent: the real agent SIGKILLed 25 times under QoS 1 load on its embedded broker, 25 on Mosquitto at 127.0.0.1:1883 (else in-process mochi); nothing acked is lost
crash-agent:
	@. .ci/brokers.sh; \
	echo "external broker: $${PASSLINE_TEST_MQTT:-in-process mochi}"; \
	PASSLINE_CRASH_KILLS=25 $(GO) test -count=1 -run TestCrashLosesNothing -v -timeout 20m ./agent/cmd/passline-agent/

## eval-check: the model's acceptance figures on the shared history, and the rules' ready_soon replayed on both files
eval-check:
	PASSLINE_HISTORY=$(abspath $(HISTORY)) $(GO) test ./agent/modelcmd -run 'TestSharedHistoryAcceptance|TestSparseMarketplaceAcceptance' -v -count=1
	PASSLINE_HISTORY=$(abspath $(HISTORY)) $(GO) test ./agent/rules -run 'TestHistoryReplayReadySoonComesTrue' -v -count=1

## sim: rider wait under notify-on-bump vs Passline's default rules, in a simulated kitchen
sim:
	PASSLINE_SIM_ORDERS=10000 $(GO) test ./agent/rules -run TestSimulatedRiderWait -v -count=1

## alerts: Prometheus alert rules checked and unit-tested by promtool
alerts:
	promtool check rules configs/alerts.yaml && promtool test rules configs/alerts_test.yaml

## browser: pass board, rider page and ops page (with plots) in headless Chromium; screenshots in artifacts/
browser:
	PASSLINE_ARTIFACTS=$(CURDIR)/artifacts $(GO) test -count=1 -v ./e2e/browser

## bench: whole pipeline (200 agents, relay, kitchens) against raw limits, removals before/after, 1,000-order RSS, 100k outbox drain; writes BENCHMARKS.md.
## Runs on this machine's Mosquitto (1883) and nats-server (4222) when they listen (a nats-server older than the one
## Passline embeds is passed over for the embedded one); BENCH_BROKERS=embedded uses embedded ones only, BENCH_BROKERS=real any real ones.
BENCH_PROFILE ?= /tmp/passline-bench-removals
BENCH_BROKERS ?= auto
bench:
	@echo "load average before: $$(cat /proc/loadavg)"
	@set -e; \
	if [ "$(BENCH_BROKERS)" = real ]; then export PASSLINE_BENCH_ANY_NATS=1; fi; \
	if [ "$(BENCH_BROKERS)" = embedded ]; then unset PASSLINE_TEST_MQTT PASSLINE_TEST_NATS; else . .ci/brokers.sh; fi; \
	echo "bench brokers: MQTT $${PASSLINE_TEST_MQTT:-embedded}, NATS $${PASSLINE_TEST_NATS:-embedded}"; \
	PASSLINE_BENCH_AB_CPUPROFILE=$(BENCH_PROFILE) $(GO) test -tags bench -run '^$$' -bench . -benchtime 1x -timeout 40m ./e2e/bench/
	@echo "load average after: $$(cat /proc/loadavg)"
	$(GO) tool pprof -top -nodecount=15 $(BENCH_PROFILE)-separate.pprof
	$(GO) tool pprof -top -cum -nodecount=30 $(BENCH_PROFILE)-separate.pprof

## chaos: about 10 minutes of faults under load on real agent and relay processes; fails on any violation
chaos:
	PASSLINE_CHAOS=long $(GO) test -run 'TestChaos|TestCheckFindsViolations' -v -count=1 -timeout 20m ./e2e/chaos/

## chaos-short: the short version alone, as `make test` runs it (under 2.5 minutes)
chaos-short:
	$(GO) test -race -run 'TestChaos|TestCheckFindsViolations' -v -count=1 -timeout 10m ./e2e/chaos/

## chaos-platform: a delivery-platform fake fails with 500s and 429s for a minute while decisions flow through the relay
chaos-platform:
	PASSLINE_PLATFORM_CHAOS=1m $(GO) test -race -run TestPlatformChaos -v -count=1 -timeout 10m ./cloud/app/

## broker-restart: the embedded and the Mosquitto broker-restart tests, 5 times each with -race (both also run once in make test)
broker-restart:
	$(GO) test -race -count=5 -run 'TestEmbeddedBrokerRestartLosesNothing|TestMosquittoRestartLosesNothing' -v ./agent/app/
