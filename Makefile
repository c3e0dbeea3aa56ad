# The two commands of the README. Each sets up everything it needs on a fresh Debian machine:
# a virtual environment in .venv, the Python packages, and the Debian programs (Graphviz's dot,
# Chromium for the browser test, pdflatex for the LaTeX test) when they are missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench mutate clean system-dot system-chromium system-latex

demo: $(VENV)/.demo-deps system-dot
	$(BIN)/micrograd demo

# First the smoke suite under every Python 3.10 to 3.13 found (each in a bare venv of its own,
# made once), then the whole suite under the .venv's Python.
test: $(VENV)/.test-deps system-dot system-chromium system-latex
	$(BIN)/python tests/smoke/run.py $(VENV)/smoke
	$(BIN)/python -m pytest

lint: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(VENV)/.test-deps
	$(BIN)/python demos/benchmark.py

# plants each bug of tests/mutate.py in a scratch copy and runs the tests that should catch it (minutes)
mutate: $(VENV)/.test-deps system-dot system-chromium
	$(BIN)/python tests/mutate.py

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis

# Installs a Debian package when its program is missing: with apt-get when we are root,
# otherwise stops with the one command that installs it.
define need_program
	@command -v $(1) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "'$(1)' is missing: installing Debian's $(2) package"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
	  else \
	    echo "micrograd needs '$(1)'. Install it with:  sudo apt-get install -y $(2)"; exit 1; \
	  fi; }
	@command -v $(1) >/dev/null 2>&1 || { echo "'$(1)' is still missing after installing $(2)"; exit 1; }
endef

system-dot:
	$(call need_program,dot,graphviz)

system-chromium:
	$(call need_program,chromium,chromium)

# pdflatex and amsmath, for the test that compiles explain's LaTeX (texlive-latex-base, no recommends)
system-latex:
	$(call need_program,pdflatex,--no-install-recommends texlive-latex-base)

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  rm -rf $(VENV); \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Python's venv module is missing: installing Debian's python3-venv package"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null && \
	    $(PYTHON) -m venv $(VENV); \
	  else \
	    echo "micrograd needs Python's venv module. Install it with:  sudo apt-get install -y python3-venv"; exit 1; \
	  fi; }

# Up to 0.1.0 the distribution was called micrograd, the classic project's name: a .venv made then
# still records it, and two records of one package would share (and remove) each other's files.
FORGET_OLD_NAME = $(BIN)/python -m pip uninstall -q -y micrograd 2>/dev/null || true

$(VENV)/.demo-deps: pyproject.toml | $(BIN)/python
	@$(FORGET_OLD_NAME)
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	@$(FORGET_OLD_NAME)
	$(BIN)/python -m pip install -q -e '.[test,dev]'
	@touch $@ $(VENV)/.demo-deps
