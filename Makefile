# The two set-up commands of the README are `make demo` and `make test`; both build the virtualenv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint docs bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24,<27"
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev,postgres,spark]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/deskpulse demo

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m deskpulse.schema | diff -u docs/data-model.md - && echo "docs/data-model.md is current"
	$(BIN)/python -m deskpulse.metrics.catalog | diff -u docs/metrics.md - && echo "docs/metrics.md is current"
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/python -m deskpulse.schema > docs/data-model.md
	$(BIN)/python -m deskpulse.metrics.catalog > docs/metrics.md

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest_speed.py

clean:
	rm -rf $(VENV) deskpulse-demo
