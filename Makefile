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
	$(BIN)/ruff format python tests benches codegen examples
	$(BIN)/ruff check --fix python tests benches codegen examples
	cargo fmt --all

.PHONY: lint-python ## ruff, mypy --strict, basedpyright strict
lint-python:
	$(BIN)/ruff format --check python tests benches codegen examples
	$(BIN)/ruff check python tests benches codegen examples
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

.PHONY: wheel ## build the abi3 manylinux wheel into dist/
wheel: install
	rm -rf dist
	$(BIN)/maturin build --release --locked --out dist

.PHONY: wheel-smoke ## install dist/*.whl into a fresh virtualenv (no Rust involved) and run the smoke test
wheel-smoke: wheel
	bash scripts/wheel_smoke.sh

.PHONY: bench ## the benchmarks on a release build, 3 runs of everything (writes benches/out/, see benches/README.md)
bench: build-release
	$(PY) -m benches $(BENCH_ARGS)

.PHONY: bench-smoke ## every system and scenario at a tiny scale, once; exits 1 only on our own failures
bench-smoke: install
	$(PY) -m benches --scale 0.01 --runs 1 --steady-half --timeout 120 --out benches/out/smoke $(BENCH_ARGS)

.PHONY: bench-rust ## criterion micro-benches of the pure core (cron, retry, timer heap)
bench-rust:
	cargo bench --locked --no-default-features -p anclax-fast --bench cron --bench retry --bench timer_heap

.PHONY: clean ## remove build outputs (keeps .venv)
clean:
	rm -rf target dist
