# hachaos: `make demo` and `make test` do all the set-up they need, idempotently.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3
PYTEST_ARGS ?=

.PHONY: demo test unit lint typecheck venv engine images browser postgres prometheus clean-reports bench help selfchaos kube kube-down

help:
	@echo "make demo   set everything up, then run scenarios/kill-replica.yaml"
	@echo "make test   set everything up, then lint, type-check and run the whole test suite"
	@echo "make unit   only the unit tests (no Docker needed)"
	@echo "make kube   build (once, cached) and start the local Kubernetes cluster (scripts/ensure-kube)"
	@echo "make bench  the load, fault-lag, analysis, consistency and accuracy benchmarks (figures: docs/performance.md)"
	@echo "make mutate mutation testing of the pure layers (results: docs/testing.md)"

# Reinstall only when the dependency list changes, so a second run downloads nothing.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

venv: $(STAMP)

engine:
	@bash scripts/ensure-docker

browser:
	@bash scripts/ensure-browser

# A single-node Kubernetes cluster built from Debian's kubernetes source package; the
# binaries are cached in /var/cache/hachaos/kube, so only the first run builds (docs/engines.md).
kube: engine
	@bash scripts/ensure-kube up

kube-down:
	@bash scripts/ensure-kube down

# Prometheus and its Pushgateway for the live-export e2e test (tests/e2e/test_live_metrics.py).
prometheus:
	@bash scripts/ensure-prometheus

# PostgreSQL's binaries for the history tests; each test session starts its own server.
postgres:
	@bash scripts/ensure-postgres

images: venv engine
	@$(BIN)/hachaos build --quiet

demo: images
	@$(BIN)/hachaos run scenarios/kill-replica.yaml

# lint-imports: the package layers and third-party bans of pyproject.toml (docs/architecture.md).
lint: venv
	$(BIN)/ruff check harness tests benchmarks scripts
	$(BIN)/ruff format --check harness tests benchmarks scripts
	$(BIN)/lint-imports

typecheck: venv
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest -m "not docker and not e2e and not browser and not multinode and not postgres and not kubernetes" $(PYTEST_ARGS)

test: images browser postgres prometheus kube lint typecheck
	$(BIN)/pytest $(PYTEST_ARGS)

bench: images
	$(BIN)/python benchmarks/load_bench.py
	$(BIN)/python benchmarks/fault_lag.py
	$(BIN)/python benchmarks/analysis_bench.py
	$(BIN)/python benchmarks/proxy_bench.py
	$(BIN)/python benchmarks/consistency_bench.py
	$(BIN)/python benchmarks/accuracy.py
	nice -n 19 $(BIN)/python benchmarks/sampler_bench.py
	$(BIN)/python benchmarks/perf_tables.py

# Kill hachaos at >= 60 seeded moments, clean up, diff the machine (docs/reliability.md).
# Needs the engine to itself: the diff is of the whole machine.
selfchaos: images
	$(BIN)/python -m tests.selfchaos $(SELFCHAOS_ARGS)

# Mutation testing (mutmut, unit tests only), one module group after the other so it fits
# a small machine; narrow it with e.g. `make mutate MUTATE=harness.analysis.recovery`.
MUTATE ?= harness.analysis harness.scenario harness.faults harness.report
MUTATE_JOBS ?= 2
.PHONY: mutate
mutate: venv
	@for m in $(MUTATE); do \
	  echo "== mutmut: $$m"; \
	  $(BIN)/mutmut run --max-children $(MUTATE_JOBS) "$$m.*" || exit 1; \
	done
	$(BIN)/python scripts/mutation_report.py

clean-reports:
	find reports -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
