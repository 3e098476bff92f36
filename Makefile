# `make book` builds the rendered book from committed results; `make test` runs the tests.
# Both create the virtual environment first if it is missing.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# pip here warns about every missing local index folder; keep the log readable.
QUIET := { grep -v "is ignored: it is neither a file nor a directory" || true; }

.PHONY: venv test book clean data lab gpu-check faults

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -e ".[book,test,d2l,jupyter,tensorboard]" 2>&1 | $(QUIET)
	# d2l 1.0.3 pins ancient numpy/pandas/matplotlib: install it without its pins.
	$(PY) -m pip install -q --no-deps d2l==1.0.3 2>&1 | $(QUIET)
	$(PY) -c "import alexnet, torch, torchvision, d2l"
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q --durations=10

# The data as `make lab` gets it (scripts/find-data.py: $ALEXNET_DATA, else ../shared/data, else
# the small sets downloaded into data/, else one line saying what the book is built without).
book: $(STAMP)
	rm -rf _build/html/reports   # a failed cell's log from an earlier build would outlive its fix
	eval "$$($(PY) scripts/find-data.py book)"; \
	$(VENV)/bin/jupyter-book build --all -W -n --keep-going .
	@echo "book: $(CURDIR)/_build/html/index.html"

data: $(STAMP)   # lay out ../shared/data's offline copies, else download the small sets into data/
	$(PY) scripts/find-data.py data

# JupyterLab at the repository root; chapters/*.md and book/*.md open as notebooks (jupytext's
# viewer, set in .jupyter/labconfig/ and read through JUPYTER_CONFIG_PATH, whose
# jupyter_server_config.py keeps every other .md, the README included, a text file), and
# jupyterlab-myst renders their MyST.
# As root (a container on a GPU box) the server needs --allow-root. Without ALEXNET_DATA, the
# offline copies in ../shared/data are laid out first, else the small sets downloaded (scripts/find-data.py).
lab: $(STAMP)
	eval "$$($(PY) scripts/find-data.py lab)"; \
	echo "ALEXNET_DATA=$${ALEXNET_DATA:-data}"; \
	JUPYTER_CONFIG_PATH="$(CURDIR)/.jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
	  $(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" \
	  $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

# On a CUDA machine: the `cuda` tests and the paper preset's img/s on 1 (and 2) GPUs, in under
# 10 minutes; elsewhere one line saying there is no GPU, exit 0.
gpu-check: $(STAMP)
	@PYTHON=$(PY) scripts/gpu-check.sh

# Before each submission: kill -9, SIGINT, two writers, a full disk, a read-only folder (~3 min).
faults: $(STAMP)
	$(PY) scripts/fault-battery.py $(FAULT_ARGS)

clean:
	rm -rf _build
