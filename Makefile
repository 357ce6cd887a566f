# coverplan — `make demo` and `make test` do everything on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SERVE ?= 1
PYTEST_ARGS ?=

.PHONY: demo test lint format typecheck clean venv bench-coverage bench-siting bench-routing

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,pg]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/coverplan demo
	$(BIN)/coverplan network build
	$(BIN)/coverplan coverage --out out/coverage
	$(BIN)/coverplan gaps --out out/coverage
	$(BIN)/coverplan site --type home --new 2 --budget 2300000 --upgrade --scenario 两新三升 --out out/siting
	$(BIN)/coverplan site --type home --new 3 --scenario 新建三处 --out out/siting/alternative
	$(BIN)/coverplan scenarios compare 两新三升 新建三处 --out out/siting/compare.xlsx
	$(BIN)/coverplan retrofit --out out/retrofit
	$(BIN)/coverplan outreach year
	$(BIN)/coverplan outreach month --out out/outreach
ifeq ($(SERVE),1)
	@echo "网页界面将在后续版本提供（SERVE=1）；当前演示数据已写入数据库和 out/。"
endif

# with a throwaway PostgreSQL cluster when the server can be had (tools/with-postgres.sh)
test: $(STAMP)
	tools/with-postgres.sh $(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

bench-coverage: $(STAMP)
	$(BIN)/python -m bench.coverage

bench-siting: $(STAMP)
	$(BIN)/python -m bench.siting

bench-routing: $(STAMP)
	$(BIN)/python -m bench.outreach_month
	$(BIN)/python -m bench.routing

clean:
	rm -rf var out .pytest_cache .mypy_cache .ruff_cache
