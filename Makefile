# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Both create .venv (if absent) and install the pinned stack of requirements/constraints.txt.
PYTHON ?= python3
VENV ?= .venv
COMPAT_VENV ?= .venv-compat
PY := $(VENV)/bin/python
# Test processes (pytest-xdist): one per core; each test file runs whole in one process,
# the longest files first (tests/conftest.py: LONGEST_FILES_FIRST).
TEST_WORKERS ?= auto
export MPLBACKEND := Agg

.PHONY: demo test test-compat bench figures figures-quick analyses clean genn mutation baselines docs

# GeNN 4.9 (for the GeNN export tests and report): built from the unmodified source in
# ../shared/vendor into .genn/ (about 80 s on 2 cores: the library and the CPU backend).
GENN_TARBALL ?= ../shared/vendor/genn-4.9.0.tar.gz
GENN_DIR := .genn/genn-4.9.0

$(VENV)/.installed: setup.py requirements/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -e '.[test,genn,datasets]'
	touch $@

demo: $(VENV)/.installed
	$(PY) models/demo.py

test: $(VENV)/.installed
	@if [ -z "$$GENN_PATH" ] && [ -f $(GENN_TARBALL) ]; then $(MAKE) --no-print-directory genn; \
	else echo "GeNN: GENN_PATH=$${GENN_PATH:-unset}, $(GENN_TARBALL) $$(test -f $(GENN_TARBALL) && echo present || echo absent)"; fi
	$(PY) -m ruff check sgbrian tests models analyses figures benchmarks
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder tests

# The reference site (docs/_build/html/index.html): Sphinx with autodoc and numpydoc over
# every module, the Markdown pages, the gallery of models/ (docs/_ext/model_gallery.py);
# any warning fails the build (-W). Intersphinx to Brian2 and numpy falls back to
# docs/intersphinx/*.inv without internet.
docs: $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -e '.[docs]'
	$(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html
	@echo "docs/_build/html/index.html"

$(GENN_DIR)/lib/libgenn_single_threaded_cpu_backend.a:
	@test -f $(GENN_TARBALL) || { echo "no $(GENN_TARBALL): set GENN_PATH to a built GeNN 4.9"; exit 1; }
	mkdir -p .genn && tar -xzf $(GENN_TARBALL) -C .genn
	$(MAKE) -C $(GENN_DIR) -j2 > .genn/build.log 2>&1 || { tail -30 .genn/build.log; exit 1; }

genn: $(GENN_DIR)/lib/libgenn_single_threaded_cpu_backend.a
	@echo "GeNN 4.9 built in $(GENN_DIR) (sgbrian finds it there; or export GENN_PATH=$$PWD/$(GENN_DIR))"

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

# Every publication figure: the analyses first (temporal precision at the sizes of models/,
# 3 seeds: 3.5 h of trainings, kept in analyses/out/precision_jobs/ so that only the
# missing ones run; BPTT baselines at reduced sizes, kept likewise), then the figure
# scripts. figures-quick: small settings (as CI tests them).
analyses: $(VENV)/.installed
	$(PY) analyses/temporal_precision.py --target cython
	@if [ -z "$$GENN_PATH" ] && [ -f $(GENN_TARBALL) ]; then $(MAKE) --no-print-directory genn; fi
	$(PY) analyses/genn_codegen.py
	$(PY) analyses/explore_model.py
	@if $(PY) -c "import snntorch, torch" 2>/dev/null; then $(PY) analyses/baselines.py --mode reduced --target cython; \
	else echo "analyses/baselines.py skipped: pip install -e '.[baselines]' (make baselines)"; fi

figures: analyses
	$(PY) figures/make_all.py

figures-quick: $(VENV)/.installed
	$(PY) figures/make_all.py --quick

# Mutation testing (outside `make test`): mutmut over sgbrian/ with the fast tests
# (setup.cfg [mutmut]); the kill rate is printed at the end (docs/testing.md).
# MUTANTS: mutant name patterns to run only some modules, e.g. MUTANTS='sgbrian.learning*'.
MUTANTS ?=
mutation: $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -e '.[test,genn,mutation]'
	rm -rf mutants
	start=$$(date +%s); $(PY) tests/mutation_selection.py mutants/selection.json && \
	  SGBRIAN_MUTATION_SELECTION=$(CURDIR)/mutants/selection.json \
	  $(VENV)/bin/mutmut run --max-children 2 $(MUTANTS); \
	  echo "mutmut run: exit $$?, wall $$(( $$(date +%s) - start )) s" | tee mutants/wall.txt
	$(VENV)/bin/mutmut results --all true > mutants/results.txt
	$(PY) tests/mutation_report.py mutants | tee mutants/report.txt

# BPTT baselines (optional extra: torch CPU + snnTorch), then figure 8.
baselines: $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -e '.[test,genn,baselines]'
	$(PY) analyses/baselines.py --mode reduced --target cython
	$(PY) figures/fig8_vs_bptt.py
