# One entry point for people and CI. Each target sets up what it needs on a fresh
# Debian machine: apt packages (JACK with its dummy driver, Mosquitto), a .venv, the
# package with its dev extras.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := jackd2 mosquitto gcc libc6-dev libfluidsynth3 timgm6mb-soundfont chromium chromium-driver

.PHONY: demo test lint typecheck unit system-deps venv bench model docs clean

demo: system-deps venv  ## a demo session on the bundled model, written to sessions/
	$(VENV)/bin/improviser demo

test: system-deps venv lint typecheck unit  ## everything CI checks

system-deps:
	@missing=""; for cmd in jackd mosquitto gcc chromium chromedriver; do command -v $$cmd >/dev/null || missing=1; done; \
	[ -e /usr/share/sounds/sf2/TimGM6mb.sf2 ] && /sbin/ldconfig -p | grep -q libfluidsynth.so.3 \
	  || missing=1; \
	if [ -n "$$missing" ]; then \
	  echo "installing $(APT_PACKAGES) (apt)"; \
	  $(SUDO) apt-get update -qq; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null; \
	fi

venv: $(STAMP)

$(STAMP): pyproject.toml setup.py improviser/inference/_native.c improviser/live/io/_jackin.c
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy

unit: venv
	$(PY) -m pytest

docs: venv  ## the manual (docs/, MkDocs) built into site/; its generated pages rewritten first
	$(PY) -m improviser.cli.docs
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

bench: system-deps venv  ## every benchmark, as tables
	$(VENV)/bin/improviser bench train
	$(VENV)/bin/improviser bench latency
	$(VENV)/bin/improviser bench e2e
	$(VENV)/bin/improviser bench sync

model: venv  ## retrain the bundled models (about three hours here: 60-80 + 3 + 35 + 40-70 minutes of training; see samples/README.md)
	$(VENV)/bin/improviser train samples/corpus -c config/bundled-model.toml --out samples/model/improviser.keras
	$(VENV)/bin/improviser plot samples/model/improviser.keras --out samples/model/improviser.curves.png
	$(VENV)/bin/improviser train samples/corpus --out samples/model/notebook-regression.keras \
	  --objective regression --epochs 3 --max-minutes 3
	$(VENV)/bin/improviser evaluate --model samples/model/improviser.keras \
	  --regression-model samples/model/notebook-regression.keras samples/corpus \
	  --json > samples/model/improviser.evaluate.json
	nice -n 10 $(VENV)/bin/improviser train --kind harmony samples/chorales \
	  --out samples/model/harmony.keras --lstm-units 128 --max-minutes 35
	$(VENV)/bin/improviser plot samples/model/harmony.keras --out samples/model/harmony.curves.png
	$(VENV)/bin/improviser evaluate --kind harmony --model samples/model/harmony.keras \
	  samples/chorales --json > samples/model/harmony.evaluate.json
	nice -n 10 $(VENV)/bin/improviser train samples/chorales -c config/chorale-model.toml \
	  --out samples/model/chorale.keras --max-minutes 70
	$(VENV)/bin/improviser plot samples/model/chorale.keras --out samples/model/chorale.curves.png
	$(VENV)/bin/improviser evaluate --model samples/model/chorale.keras samples/chorales \
	  --json > samples/model/chorale.evaluate.json

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
