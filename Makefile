# Samvad: `make demo` runs everything locally, `make test` runs all tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON3 ?= python3
# Rasa 3.6 needs Python 3.10: python3.10 on PATH (a working one, not a bare pyenv shim), else pyenv's.
PY310 ?= $(shell for p in $$(command -v python3.10) $$HOME/.pyenv/versions/3.10.*/bin/python3.10; do \
            [ -x "$$p" ] && "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && { echo "$$p"; break; }; done)
VENV := .venv
VENV_RASA := .venv-rasa
RASA := $(VENV_RASA)/bin/rasa
PY := $(VENV)/bin/python
TRAIN_INPUTS := config.yml domain.yml data/places.txt $(sort $(wildcard nlu/*.yml stories/*.yml))
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: help setup tools train test test-content test-fast demo lint browser clean bench check reload fuzz scale-demo

help:
	@echo "make demo    - set up, train if needed, and run Redis + Rasa + actions + gateway (Ctrl-C stops all)"
	@echo "make test    - set up, train if needed, and run every test"
	@echo "make check   - content checks in under a minute: rasa data validate + the bilingual content lint"
	@echo "make test-content - NLU cross-validation report (F1 per intent and language, confusions) + conversation tests"
	@echo "make reload  - train if the content changed and load the model into the running Rasa (no restart)"
	@echo "make train   - train the Rasa model into models/ (no-op when nothing changed)"
	@echo "make lint    - ruff and mypy on bot/"
	@echo "make tools   - Debian's promtool (prometheus) and haproxy, when missing (make test calls it)"
	@echo "make fuzz    - the fuzzers and property tests, long (SAMVAD_FUZZ_EXAMPLES inputs each; docs/security.md)"
	@echo "make bench   - stock Rasa vs Samvad, end to end (BENCH_ARGS=--quick for a short run; docs/performance.md)"
	@echo "make scale-demo - Redis Cluster, 2 gateways and 2 Rasa servers behind HAProxy, under load and faults (docs/scaling.md)"

setup: $(VENV)/.installed $(VENV_RASA)/.installed

$(VENV)/.installed: requirements.txt
	@$(PYTHON3) -c 'import sys; assert sys.version_info >= (3, 11), "need Python 3.11+ as python3"'
	test -x $(PY) || $(PYTHON3) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV_RASA)/.installed: requirements-rasa.txt
	@if [ -z "$(PY310)" ]; then \
	  echo "Rasa 3.6 needs Python 3.10, and none was found (python3.10 on PATH or ~/.pyenv/versions/3.10.*)."; \
	  echo "Install it, e.g. 'pyenv install 3.10' or 'apt-get install python3.10 python3.10-venv', then re-run make."; \
	  exit 1; fi
	test -x $(VENV_RASA)/bin/python || $(PY310) -m venv $(VENV_RASA)
	$(VENV_RASA)/bin/pip install --quiet --disable-pip-version-check -r requirements-rasa.txt
	touch $@

# Train only when the training data or config changed since the last model.
train: $(VENV_RASA)/.installed
	@mkdir -p models
	@sum=$$(cat $(TRAIN_INPUTS) | sha256sum | cut -d' ' -f1); \
	if [ -f models/.inputs.sha256 ] && [ "$$(cat models/.inputs.sha256)" = "$$sum" ] && ls models/*.tar.gz >/dev/null 2>&1; then \
	  echo "model is up to date ($$(ls -t models/*.tar.gz | head -1))"; \
	else \
	  $(RASA) train --data nlu stories --config config.yml --domain domain.yml --out models --fixed-model-name samvad && \
	  echo "$$sum" > models/.inputs.sha256; \
	fi

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-noto-core >/dev/null; }

# Debian's promtool (checks ops/prometheus/alerts.yml in the tests) and HAProxy (the scale demo's balancer).
tools:
	@missing=""; command -v promtool >/dev/null || missing="$$missing prometheus"; \
	command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing="$$missing haproxy"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian's$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# Everything, the cross-validated F1 bar (marker `quality`, about 3 minutes) included.
test: setup train browser tools
	$(PY) -m pytest

# The content team's loop (docs/content.md): check, test, reload.
check: setup
	$(PY) -m bot content check --rasa

# Both test runs and the report, whatever fails; non-zero exit if anything failed.
test-content: setup train
	@status=0; \
	$(PY) -m pytest -m quality -v || status=1; \
	$(PY) -m pytest -v tests/test_assistant_quality.py::test_conversations_pass_end_to_end || status=1; \
	$(PY) -m bot content report results/nlu || status=1; \
	exit $$status

# Rasa's address and token: SAMVAD_RASA_URL, SAMVAD_RASA_TOKEN (as for the gateway).
reload: train
	$(PY) -m bot content reload

test-fast: $(VENV)/.installed
	$(PY) -m pytest -m "not rasa and not slow and not browser"

demo: setup train
	$(PY) -m bot demo

# The fuzzers of `make test` (about a minute there) with many more inputs: hours at the default 200,000 each.
fuzz: $(VENV)/.installed
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -s -p no:cacheprovider tests/test_fuzz.py tests/test_identifiers.py tests/test_language.py -k "fuzz or parser or never_fails or detector"

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check bot tests
	$(VENV)/bin/mypy

# Long (trains stock Rasa once into results/bench/, then about 10 minutes) and noisy: not part of `make test`.
# Then NLU parses/s of the current model against the pipeline and data before issue 16 (benchmarks/nlu_speed.py).
bench: setup train
	$(PY) -m benchmarks.e2e $(BENCH_ARGS)
	$(PY) -m benchmarks.nlu_speed $(NLU_BENCH_ARGS)

clean:
	rm -rf models results .run .pytest_cache

# Scale-out on this machine (docs/scaling.md): a 3+3 Redis Cluster, 2 Rasa servers and 2 gateways behind HAProxy,
# under a Hindi/English/Hinglish load with hand-offs, a killed gateway and a failed-over master. About 5 minutes.
scale-demo: setup train tools
	$(PY) -m benchmarks.scale_demo $(SCALE_ARGS)
