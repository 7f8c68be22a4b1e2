# sessiond — two commands: `make serve` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TOOLS  := .tools
BUF    := $(TOOLS)/node_modules/.bin/buf
BUF_VERSION := 1.75.0

# Code generators for the non-Python clients (buf.gen.yaml), all local, all pinned here or in
# clients/typescript/package-lock.json. Go tools go to a project-local GOBIN.
GOBIN_DIR := $(abspath $(TOOLS)/go/bin)
PROTOC_GEN_GO_VERSION      := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
GRPCURL_VERSION            := v1.9.4
# Validates deploy/k8s (tests/test_deploy.py) against schemas from the kubernetes-validate
# PyPI package, so no schema is downloaded.
KUBECONFORM_VERSION        := v0.8.0
# ghz drives the unary load of `make bench` (bench/ghz.py) where Go is present.
GHZ_VERSION                := v0.120.0
# protoc-gen-grpc-gateway: tests/test_rest_gateway.py generates a REST gateway from the
# google.api.http options and sends real HTTP calls through it (Envoy is not installable
# here). The same version pins grpc-gateway's runtime in tests/rest_gateway/go.mod.
GRPC_GATEWAY_VERSION       := v2.32.0
# protoc (Maven Central's com.google.protobuf:protoc) drives buf's `protoc_builtin: java`.
PROTOC_VERSION    := 4.36.2
GRPC_JAVA_VERSION := 1.83.0
MVN := mvn -q -B
STAMPS := $(TOOLS)/stamps
TS_DEPS   := clients/typescript/node_modules/.package-lock.json
GEN_TOOLS := $(TS_DEPS) \
	$(STAMPS)/protoc-gen-go@$(PROTOC_GEN_GO_VERSION) \
	$(STAMPS)/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION) \
	$(STAMPS)/protoc@$(PROTOC_VERSION) \
	$(STAMPS)/protoc-gen-grpc-java@$(GRPC_JAVA_VERSION)
# Generated trees, one per language (Python: scripts/generate_python.py).
GEN_DIRS := clients/typescript/src/gen clients/go/gen clients/java/src/generated/java
# `buf breaking` checks the proto/ module only (third_party/googleapis is vendored) against
# proto/ at the baseline: the merge-base with origin/main when that is behind HEAD (a branch),
# else the previous commit. Override with `make breaking BREAKING_AGAINST=<git ref>`.
BREAKING_AGAINST ?=
# And against sessiond.v1 as first published, so no series of commits breaks it either (a
# check against the previous commit sees only the last of a push).
API_V1 := ac5445709647f6d7f7502c07b49f2f7670dc0a23

.PHONY: serve cluster test lint typecheck proto-lint breaking generate check-generated gen-tools \
	client-deps grpcurl kubeconform rest-gateway ghz bench bench-quick pytest clean

$(STAMP): pyproject.toml clients/python/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e clients/python -e '.[dev,bench]'
	touch $(STAMP)

$(BUF):
	@command -v npm >/dev/null || { echo "npm is needed for buf (npm package @bufbuild/buf)"; exit 1; }
	mkdir -p $(TOOLS)
	cd $(TOOLS) && npm install --silent --no-audit --no-fund --prefix . @bufbuild/buf@$(BUF_VERSION)

serve: $(STAMP)
	$(BIN)/sessiond serve

# PostgreSQL and NATS (both from pip) and three replicas on 127.0.0.1:50051-50053, to try
# the scale-out setup on one machine (scripts/cluster.py); Ctrl-C stops everything.
cluster: $(STAMP)
	$(BIN)/python scripts/cluster.py

test: $(STAMP) lint typecheck proto-lint breaking check-generated client-deps grpcurl kubeconform \
	rest-gateway pytest

lint: $(STAMP)
	$(BIN)/ruff check service tests scripts bench clients/python/src/sessiond/client
	$(BIN)/ruff format --check service tests scripts bench clients/python/src/sessiond/client
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

proto-lint: $(BUF)
	$(BUF) lint
	$(BUF) format --diff --exit-code

breaking: $(BUF)
	@against='$(BREAKING_AGAINST)'; \
	if [ -z "$$against" ]; then \
	  head=$$(git rev-parse HEAD 2>/dev/null) || { echo "breaking: not a git checkout, skipped"; exit 0; }; \
	  base=$$(git merge-base HEAD origin/main 2>/dev/null || true); \
	  if [ -n "$$base" ] && [ "$$base" != "$$head" ]; then against=$$base; \
	  elif git rev-parse -q --verify HEAD~1 >/dev/null; then against=$$(git rev-parse HEAD~1); \
	  else echo "breaking: no previous commit, skipped"; exit 0; fi; \
	fi; \
	if [ -z "$$(git ls-tree -r --name-only "$$against" -- proto | grep '\.proto$$')" ]; then \
	  echo "breaking: $$against has no protos, skipped"; exit 0; fi; \
	echo "$(BUF) breaking proto --against .git#ref=$$against,subdir=proto"; \
	$(BUF) breaking proto --against ".git#ref=$$against,subdir=proto"
	@if git cat-file -e '$(API_V1)^{commit}' 2>/dev/null; then \
	  echo "$(BUF) breaking proto --against .git#ref=$(API_V1),subdir=proto (sessiond.v1 as published)"; \
	  $(BUF) breaking proto --against ".git#ref=$(API_V1),subdir=proto"; \
	else echo "breaking: $(API_V1) (sessiond.v1 as published) not in this clone, skipped"; fi

pytest: $(STAMP)
	$(BIN)/pytest -q -rs

# --- client toolchains and generated code -------------------------------------------------
$(TS_DEPS): clients/typescript/package.json clients/typescript/package-lock.json
	cd clients/typescript && npm ci --silent --no-audit --no-fund
	touch $@

$(STAMPS)/protoc-gen-go@%:
	GOBIN=$(GOBIN_DIR) go install google.golang.org/protobuf/cmd/protoc-gen-go@$*
	mkdir -p $(STAMPS) && touch $@

$(STAMPS)/protoc-gen-go-grpc@%:
	GOBIN=$(GOBIN_DIR) go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$*
	mkdir -p $(STAMPS) && touch $@

$(STAMPS)/protoc@%:
	$(MVN) dependency:copy -Dartifact=com.google.protobuf:protoc:$*:exe:linux-x86_64 \
		-DoutputDirectory=$(TOOLS)/java -Dmdep.stripVersion=true -Dmdep.stripClassifier=true
	mv $(TOOLS)/java/protoc.exe $(TOOLS)/java/protoc && chmod +x $(TOOLS)/java/protoc
	mkdir -p $(STAMPS) && touch $@

$(STAMPS)/protoc-gen-grpc-java@%:
	$(MVN) dependency:copy -Dartifact=io.grpc:protoc-gen-grpc-java:$*:exe:linux-x86_64 \
		-DoutputDirectory=$(TOOLS)/java -Dmdep.stripVersion=true -Dmdep.stripClassifier=true
	mv $(TOOLS)/java/protoc-gen-grpc-java.exe $(TOOLS)/java/protoc-gen-grpc-java
	chmod +x $(TOOLS)/java/protoc-gen-grpc-java
	mkdir -p $(STAMPS) && touch $@

gen-tools: $(GEN_TOOLS)

generate: $(STAMP) $(BUF) $(GEN_TOOLS)
	$(BIN)/python scripts/generate_python.py
	$(BUF) generate

# Regenerates every language into a scratch directory and fails on any difference.
check-generated: $(STAMP) $(BUF) $(GEN_TOOLS)
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(BIN)/python scripts/generate_python.py "$$tmp/python"; \
	$(BUF) generate -o "$$tmp"; \
	status=0; \
	diff -r --exclude=__pycache__ "$$tmp/python/sessiond/v1" clients/python/src/sessiond/v1 || status=1; \
	for d in $(GEN_DIRS); do diff -r "$$tmp/$$d" "$$d" || status=1; done; \
	if [ $$status -ne 0 ]; then echo "generated code is stale: run 'make generate' and commit it"; fi; \
	exit $$status

# Dependencies of the client examples and their tests (tests/test_clients.py) and of the REST
# gateway that tests/test_rest_gateway.py builds.
client-deps: $(TS_DEPS)
	cd clients/go && go mod download
	cd clients/java && $(MVN) dependency:go-offline
	cd tests/rest_gateway && go mod download

kubeconform: $(STAMPS)/kubeconform@$(KUBECONFORM_VERSION)
$(STAMPS)/kubeconform@%:
	GOBIN=$(GOBIN_DIR) go install github.com/yannh/kubeconform/cmd/kubeconform@$*
	mkdir -p $(STAMPS) && touch $@

grpcurl: $(STAMPS)/grpcurl@$(GRPCURL_VERSION)
$(STAMPS)/grpcurl@%:
	GOBIN=$(GOBIN_DIR) go install github.com/fullstorydev/grpcurl/cmd/grpcurl@$*
	mkdir -p $(STAMPS) && touch $@

rest-gateway: $(STAMPS)/protoc-gen-grpc-gateway@$(GRPC_GATEWAY_VERSION)
$(STAMPS)/protoc-gen-grpc-gateway@%:
	GOBIN=$(GOBIN_DIR) go install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$*
	mkdir -p $(STAMPS) && touch $@

ghz: $(STAMPS)/ghz@$(GHZ_VERSION)
$(STAMPS)/ghz@%:
	GOBIN=$(GOBIN_DIR) go install github.com/bojand/ghz/cmd/ghz@$*
	mkdir -p $(STAMPS) && touch $@

# Benchmarks (docs/benchmarks.md): its own servers on 127.0.0.1, about 6 minutes on 2 cores;
# writes bench/results/latest.json and latest.md. `make bench-quick` (or BENCH_QUICK=1): tiny
# counts, a check that everything runs, not figures (bench/results/quick.*, not committed).
bench: $(STAMP)
	@if command -v go >/dev/null; then $(MAKE) --no-print-directory ghz; \
	else echo "bench: no Go toolchain, the ghz figures are skipped"; fi
	$(BIN)/python -m bench $(if $(BENCH_QUICK),--quick)

bench-quick:
	$(MAKE) --no-print-directory bench BENCH_QUICK=1

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
	rm -rf clients/typescript/node_modules clients/java/target
