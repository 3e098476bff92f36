# `make book` builds the rendered book from committed results; `make test` runs the tests.
# Both create the virtual environment first if it is missing.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# pip here warns about every missing local index folder; keep the log readable.
QUIET := { grep -v "is ignored: it is neither a file nor a directory" || true; }

.PHONY: venv test book clean data

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -e ".[book,test,d2l]" 2>&1 | $(QUIET)
	# d2l 1.0.3 pins ancient numpy/pandas/matplotlib: install it without its pins.
	$(PY) -m pip install -q --no-deps d2l==1.0.3 2>&1 | $(QUIET)
	$(PY) -c "import alexnet, torch, torchvision, d2l"
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q --durations=10

book: $(STAMP)
	$(VENV)/bin/jupyter-book build --all -W -n --keep-going .
	@echo "book: $(CURDIR)/_build/html/index.html"

data: $(STAMP)   # lay out ../shared/data (this workplace's offline copies) and print ALEXNET_DATA
	$(PY) ../shared/data/prepare.py

clean:
	rm -rf _build
