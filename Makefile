# coverplan — `make demo` and `make test` do everything on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SERVE ?= 1
PORT ?= 8000
PYTEST_ARGS ?=
BENCH_ARGS ?=

# The maps' and pages' front-end files (Leaflet, jQuery, Bootstrap, awesome-markers,
# Font Awesome, d3, htmx) from the npm registry into maps/static/vendor with a
# manifest of versions, licences and hashes. The files are committed: run it only to
# change a version (nothing is downloaded at install or run time).
.PHONY: vendor
vendor: $(STAMP)
	$(BIN)/python -m maps.vendor

.PHONY: demo test lint format typecheck clean venv bench-coverage bench-siting bench-routing bench-api bench-whatif

venv: $(STAMP)

# Installs the pinned versions of constraints.txt (the tested environment).
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,pg]'
	touch $(STAMP)

# After adding or changing a dependency in pyproject.toml: installs what is new
# (keeping the versions already installed) and pins the whole environment again.
.PHONY: lock
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev,pg]'
	{ echo "# Pinned versions of every dependency (the tested environment): make installs them"; \
	  echo "# with pip install -c constraints.txt -e '.[dev,pg]'. Regenerate with make lock"; \
	  echo "# after changing the dependencies in pyproject.toml. Python 3.11, Linux x86-64."; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v -i -E '^coverplan([=@ ]|$$)'; \
	} > constraints.txt.new
	mv constraints.txt.new constraints.txt

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
	@echo "演示账户（仅限演示库）：admin/demo-admin-pass planner/demo-planner-pass leader/demo-leader-pass outreach/demo-outreach-pass；密钥 X-API-Key: cp_00000000_demo-integration-key-not-for-real-data"
ifeq ($(SERVE),1)
	@echo "网页：http://127.0.0.1:$(PORT)/ （用上面的演示账户登录）；接口：http://127.0.0.1:$(PORT)/openapi.json （Ctrl+C 停止；make demo SERVE=0 不启动）"
	$(BIN)/coverplan serve --demo --host 127.0.0.1 --port $(PORT)
endif

# System packages the tests need: Chromium (the route sheets are printed to PDF in
# it) and a CJK font (fonts-wqy-microhei). Installed only when missing; sudo only
# when not root. Playwright drives this Chromium: never `playwright install`.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
.PHONY: test-deps
test-deps:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }
	@fc-list | grep -qi wenquanyi || dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update && $(SUDO) apt-get install -y fonts-wqy-microhei; }
	@command -v wrk >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y wrk; }

# with a throwaway PostgreSQL cluster when the server can be had (tools/with-postgres.sh)
test: $(STAMP) test-deps
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

# The leader's what-if on the demo: server ms per click (median, p95 of 100 random
# add/remove/upgrade clicks) next to a full coverplan coverage run; exit 1 over 100 ms.
bench-whatif: $(STAMP)
	$(BIN)/python -m bench.whatif $(BENCH_ARGS)

# HTTP load (wrk on a real uvicorn) and SQLite concurrency; a quick run:
# make bench-api BENCH_ARGS="--seconds 5". wrk (Debian package) only when missing.
.PHONY: bench-deps
bench-deps:
	@command -v wrk >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y wrk; }

bench-api: $(STAMP) bench-deps
	$(BIN)/python -m bench.api $(BENCH_ARGS)

clean:
	rm -rf var out .pytest_cache .mypy_cache .ruff_cache
