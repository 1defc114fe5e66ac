# `make run` builds the dataset from seeds/; `make test` runs the test suite (`make test-fast`
# the part that needs no Prefect server and no corpora).
# Each creates and fills .venv from the pinned, hashed requirements.lock on first use.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# A project-local Prefect home; its temporary server needs time to start on 2 cores,
# and there is no network for its analytics.
export PREFECT_HOME := $(CURDIR)/.prefect
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 90
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: run test test-fast lock clean

run: $(STAMP)
	$(BIN)/newscorpus build

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# What needs neither a Prefect server nor ../shared/corpora, on every core: under a minute.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not prefect and not corpora" -n auto $(PYTEST_ARGS)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# Re-pin every dependency (with hashes) after editing pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --extra test --strip-extras \
		-o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .prefect .pytest_cache
