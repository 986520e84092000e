# Hotline: `make run` starts the server, `make test` runs the whole suite, `make bench` the benchmarks.
# Every target sets up what it needs: the virtualenv, the Python packages and the Debian tools.

VENV      ?= .venv
PY        := $(VENV)/bin/python
PYTHON    ?= python3.11
APT_TOOLS := sipp:sip-tester espeak-ng:espeak-ng sox:sox pg_ctlcluster:postgresql chromium:chromium firefox-esr:firefox-esr
STAMP     := $(VENV)/.installed
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-speechbrain bench lint lock deps apt venv clean

run: deps
	$(PY) -m hotline serve --config configs/hotline.yaml

test: deps
	$(PY) -m pytest -q

# SpeechBrain (ECAPA-TDNN) needs torchaudio, i.e. torch 2.9.1 and several GB: its own venv and target.
SB_VENV := .venv-speechbrain
test-speechbrain: apt
	[ -x $(SB_VENV)/bin/python ] || $(PYTHON) -m venv $(SB_VENV)
	$(SB_VENV)/bin/python -m pip install -q --upgrade pip
	$(SB_VENV)/bin/python -m pip install -q torch==2.9.1 'torchaudio==2.9.*'
	# hotline pins torch 2.13 for the main venv: install it here without resolving its pins
	$(SB_VENV)/bin/python -m pip install -q speechbrain numpy soundfile soxr samplerate webrtcvad-wheels \
	  pydantic pydantic-settings librosa scipy cryptography pyyaml typer rich pytest pytest-timeout pytest-asyncio \
	  G722 httpx vosk phonenumbers
	$(SB_VENV)/bin/python -m pip install -q --no-deps -e . 'resemblyzer==0.1.4'
	$(SB_VENV)/bin/python -m pytest -q -rs -p no:cacheprovider tests/biometrics/test_speechbrain_local.py

bench: deps
	$(PY) -m benchmarks.run

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

deps: apt venv

# Debian packages the tests and the softphone use (installed only when missing).
apt:
	@missing=""; for pair in $(APT_TOOLS); do cmd=$${pair%%:*}; pkg=$${pair##*:}; \
	  command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=python3"; exit 1; }
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]' -c requirements.lock  # the exact versions of the lock file
	# resemblyzer (speaker encoder, weights in its wheel) wants the `webrtcvad` sdist, which would
	# overwrite the same module from webrtcvad-wheels: install it without its dependencies (they are
	# all in pyproject.toml).
	$(PY) -m pip install -q --no-deps 'resemblyzer==0.1.4'
	touch $(STAMP)

# After changing pyproject.toml: install, then write the exact versions to the lock file.
lock: apt
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev]'
	{ sed -n '1,3p' requirements.lock; $(PY) -m pip freeze --exclude-editable | grep -v '^#' \
	  | sed 's/^torch==\([0-9.]*\)+cpu$$/torch==\1/' | grep -iv '^resemblyzer=='; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
