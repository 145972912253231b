# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Both create .venv (if absent) and install the pinned stack of requirements/constraints.txt.
PYTHON ?= python3
VENV ?= .venv
COMPAT_VENV ?= .venv-compat
PY := $(VENV)/bin/python
export MPLBACKEND := Agg

.PHONY: demo test test-compat bench figures figures-quick analyses clean

$(VENV)/.installed: setup.py requirements/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -e '.[test,genn]'
	touch $@

demo: $(VENV)/.installed
	$(PY) models/demo.py

test: $(VENV)/.installed
	$(PY) -m pytest -q tests

# Second stack: newest brian2 (2.9.0) with numpy<2.4, without brian2genn.
$(COMPAT_VENV)/.installed: setup.py requirements/constraints-compat.txt
	test -x $(COMPAT_VENV)/bin/python || $(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c requirements/constraints-compat.txt -e '.[test]'
	touch $@

test-compat: $(COMPAT_VENV)/.installed
	$(COMPAT_VENV)/bin/python -m pytest -q tests -m "not genn"

bench: $(VENV)/.installed
	$(PY) benchmarks/bench_sim.py

clean:
	rm -rf $(VENV) $(COMPAT_VENV) figures/out/*

# Every publication figure: the analyses first (full mode, about 40 minutes on 2 cores),
# then the figure scripts. figures-quick: small settings (as CI tests them).
analyses: $(VENV)/.installed
	$(PY) analyses/temporal_precision.py --target cython
	$(PY) analyses/genn_codegen.py
	$(PY) analyses/explore_model.py

figures: analyses
	$(PY) figures/make_all.py

figures-quick: $(VENV)/.installed
	$(PY) figures/make_all.py --quick
