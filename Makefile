# The one entry point for people and CI. `make help` lists the targets.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.DEFAULT_GOAL := help

.PHONY: help ## list the targets
help:
	@grep -E '^\.PHONY: [a-z-]+ ## ' $(MAKEFILE_LIST) | sed -E 's/\.PHONY: ([a-z-]+) ## (.*)/  \1\t\2/' | expand -t 18

.PHONY: install ## create .venv, install Postgres if missing, build the extension (release)
install:
	@bash scripts/bootstrap.sh

.PHONY: build ## rebuild the extension into .venv (optimized, quick to build)
build: install

.PHONY: build-release ## rebuild the extension into .venv with the release profile (for benchmarks)
build-release:
	@BUILD_PROFILE=release bash scripts/bootstrap.sh

.PHONY: demo ## run the end-to-end demo (embedded Postgres unless ANCLAX_DSN is set)
demo: install
	@$(BIN)/anclax-fast demo

.PHONY: ui ## serve the dashboard on http://127.0.0.1:8080 for ANCLAX_DSN (UI_ARGS=--allow-actions to act)
ui: install
	@$(BIN)/anclax-fast ui $(UI_ARGS)

.PHONY: ui-screenshots ## retake docs/ui/*.png with the dashboard's browser tests (needs chromium)
ui-screenshots: install
	ANCLAX_REQUIRE_BROWSER=1 ANCLAX_UI_SCREENSHOTS=docs/ui $(BIN)/pytest -m "" tests/ui/test_browser.py

.PHONY: bench-ui ## dashboard page times on 5,000,000 tasks (BENCH_ARGS="--rows N --shape burst")
bench-ui: install
	$(PY) -m benches.bench_ui $(BENCH_ARGS)

.PHONY: test ## run the whole test suite (unit + integration on an embedded Postgres)
test: install
	@$(BIN)/pytest -m "" $(PYTEST_ARGS)

.PHONY: test-rust ## run the Rust unit and property tests of the pure core
test-rust:
	cargo test --locked --no-default-features -p anclax-fast

.PHONY: format ## format Python and Rust sources
format:
	$(BIN)/ruff format python tests benches codegen examples scripts
	$(BIN)/ruff check --fix python tests benches codegen examples scripts
	cargo fmt --all

.PHONY: lint-python ## ruff, mypy --strict, basedpyright strict
lint-python:
	$(BIN)/ruff format --check python tests benches codegen examples scripts
	$(BIN)/ruff check python tests benches codegen examples scripts
	$(BIN)/mypy
	$(BIN)/mypy examples/fastapi_app
	$(BIN)/mypy examples/django_app
	$(BIN)/basedpyright

.PHONY: lint-rust ## rustfmt and clippy -D warnings
lint-rust:
	cargo fmt --all -- --check
	cargo clippy --locked --all-targets -- -D warnings
	cargo clippy --locked --all-targets --no-default-features -- -D warnings

.PHONY: stubtest ## check _core.pyi against the built module
stubtest:
	$(PY) -m mypy.stubtest anclax_fast._core --allowlist .mypy-stubtest-allowlist

.PHONY: generate ## regenerate the golden record (codegen/golden) from the sample specs
generate:
	$(PY) codegen/regen.py

.PHONY: verify-generated ## fail if codegen/golden is stale; stubtest the generated packages
verify-generated:
	$(PY) codegen/regen.py --check
	$(PY) -m mypy.stubtest codegen.golden.tutorial codegen.golden.edge_cases anclax_fast.demo.taskgen

.PHONY: lint ## every linter and the stub check
lint: lint-python lint-rust stubtest verify-generated

# Release wheels are linked by zig (the `ziglang` package of the release group) against old C
# libraries, so one build here runs on most Linux servers: glibc 2.17+ (manylinux2014) and musl
# 1.2+ (musllinux_1_2). The release profile (fat LTO) takes a few minutes per wheel.
RELEASE_STAMP := $(VENV)/.release-stamp
MATURIN_ZIG := PATH="$(abspath $(BIN)):$$PATH" $(BIN)/maturin build --release --locked --zig

$(RELEASE_STAMP): pyproject.toml | install
	$(PY) -m pip install -q --group release
	touch $@

.PHONY: release-tools ## install the release tools (ziglang, auditwheel, twine) into .venv
release-tools: $(RELEASE_STAMP)

.PHONY: wheel ## build the manylinux2014 (glibc 2.17+) x86_64 abi3 wheel into dist/
wheel: install release-tools
	rm -f dist/anclax_fast-*manylinux*.whl
	$(MATURIN_ZIG) --target x86_64-unknown-linux-gnu --compatibility manylinux2014 --out dist

.PHONY: wheel-musl ## build the musllinux_1_2 x86_64 abi3 wheel into dist/ (adds the Rust musl target)
wheel-musl: install release-tools
	@rustup target list --installed | grep -qx x86_64-unknown-linux-musl || rustup target add x86_64-unknown-linux-musl
	rm -f dist/anclax_fast-*musllinux*.whl
	$(MATURIN_ZIG) --target x86_64-unknown-linux-musl --compatibility musllinux_1_2 --out dist

.PHONY: sdist ## build the source distribution into dist/
sdist: install
	rm -f dist/anclax_fast-*.tar.gz
	$(BIN)/maturin sdist --out dist

# wheel_check.py loads musllinux wheels with musl's dynamic loader: Debian's `musl` package.
.PHONY: dist-check ## check dist/: auditwheel and linked libraries of each wheel, twine check of everything
dist-check: release-tools
	@if ls dist/*musllinux*.whl >/dev/null 2>&1 && [ ! -e /lib/ld-musl-x86_64.so.1 ] && [ "$$(id -u)" = 0 ]; then \
		echo "installing musl with apt (its loader checks the musllinux wheel)"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl >/dev/null; }; \
	fi
	$(PY) scripts/wheel_check.py dist/anclax_fast-*.whl
	$(BIN)/twine check --strict dist/*

.PHONY: wheel-smoke ## build the wheel, check it, install it into fresh virtualenvs (3.10-3.13, no Rust), smoke test
wheel-smoke: wheel
	$(PY) scripts/wheel_check.py dist/anclax_fast-*manylinux*.whl
	bash scripts/wheel_smoke.sh

.PHONY: sdist-smoke ## pip install the sdist into a fresh virtualenv: with Rust it builds, without it says what to install
sdist-smoke: sdist
	bash scripts/sdist_smoke.sh

.PHONY: release-artifacts ## build every wheel and the sdist into a clean dist/, check them (auditwheel, twine)
release-artifacts: dist-clean wheel wheel-musl sdist dist-check
	@ls -l dist

.PHONY: bench ## the benchmarks on a release build, 3 runs of everything (writes benches/out/, see benches/README.md)
bench: build-release
	$(PY) -m benches $(BENCH_ARGS)

.PHONY: bench-smoke ## every system and scenario at a tiny scale, once; exits 1 only on our own failures
bench-smoke: install
	$(PY) -m benches --scale 0.01 --runs 1 --steady-half --timeout 120 --out benches/out/smoke $(BENCH_ARGS)

.PHONY: bench-rust ## criterion micro-benches of the pure core (cron, retry, timer heap)
bench-rust:
	cargo bench --locked --no-default-features -p anclax-fast --bench cron --bench retry --bench timer_heap

.PHONY: dist-clean ## remove dist/
dist-clean:
	rm -rf dist

.PHONY: clean ## remove build outputs (keeps .venv)
clean:
	rm -rf target dist
