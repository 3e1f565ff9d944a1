# The two commands that matter: `make run` and `make test`. Both need only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
HOST ?= 127.0.0.1
PORT ?= 8000
BOOKING_DATA_DIR ?= var
export BOOKING_DATA_DIR

.PHONY: install run test test-browser test-all bench lint format clean

# The virtual environment, built from the lock file; rebuilt when either project file changes.
$(VENV)/.installed: pyproject.toml uv.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --inexact --quiet
	@touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/booking init
	$(BIN)/booking migrate
	$(BIN)/booking demo
	HOST=$(HOST) PORT=$(PORT) $(BIN)/booking serve

test: install
	$(BIN)/python -m pytest tests/unit tests/integration

# The booking journey in the system Chromium (apt-get install -y chromium), with axe-core checks.
test-browser: install
	$(BIN)/python -m pytest tests/e2e

bench: install
	$(BIN)/python -m tests.benchmarks

# bandit: no finding above low severity in the service's code.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/bandit -q -r booking -ll

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
