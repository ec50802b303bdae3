# Skill Studio — `make run` opens the app, `make test` runs lint + the whole suite.
# Both create .venv themselves; nothing else is needed on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint unit bench package clean qt-deps services

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

qt-deps:
	@$(PY) tests/support/qt_system_deps.py

run: $(STAMP) qt-deps
	$(VENV)/bin/skillstudio gui skills

lint: $(STAMP)
	$(VENV)/bin/ruff check desktop tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

services:
	@bash tests/support/start-services.sh

unit: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

test: $(STAMP) services lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/run_all.py

# One-folder desktop build (PyInstaller), then start it once: --version and a window that opens and closes.
package: $(STAMP) qt-deps
	$(PY) -m pip install -q 'pyinstaller>=6.10'
	$(VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller packaging/skillstudio.spec
	dist/skillstudio/skillstudio --version
	QT_QPA_PLATFORM=offscreen dist/skillstudio/skillstudio gui --smoke-test

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache test-artifacts
