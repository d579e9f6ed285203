# GANBench: `make repro` runs the benchmark, `make test` the tests.
SHELL := /bin/bash
VENV := .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed
CLUSTER_STAMP := $(VENV)/.installed-cluster
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export DVC_NO_ANALYTICS := 1
export MPLBACKEND := Agg

.PHONY: repro test bench lint data venv lock rankings

# The virtual environment is rebuilt only when the pinned requirements change.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --constraint requirements.lock --editable '.[dev]'
	touch $@

# The tests also cover the cluster executor: Ray, an extra that `make repro` does without.
$(CLUSTER_STAMP): $(STAMP)
	$(VENV)/bin/pip install --quiet --constraint requirements.lock --editable '.[dev,cluster]'
	touch $@

venv: $(STAMP)

data: $(STAMP)
	ganbench fetch

# PROFILE=<name> first writes profiles/<name>.yaml's complete params over params.yaml
# (`git checkout params.yaml` returns to the default profile). The stages run a CPU core
# each, JOBS at once (default: one per core), when the working tree is committed; else one
# at a time (see stages/repro.py).
repro: data
	$(if $(PROFILE),ganbench profile $(PROFILE))
	ganbench repro $(if $(JOBS),--jobs $(JOBS))
	@echo "Report: $(CURDIR)/$$(python -c 'import yaml; print(yaml.safe_load(open("params.yaml"))["report_dir"])')/index.html"

# Whether the default's rankings hold at twice its budgets, on the committed reports' final
# scores (stages/rankings.py): the default and its added seeds against the double profiles.
RANKINGS_BASE := reports/results.csv reports/stacked_seeds/results.csv
RANKINGS_LONGER := reports/double/results.csv reports/double_fashion/results.csv \
	reports/double_ring8/results.csv reports/double_stacked_seeds/results.csv
# And whether Stacked MNIST's ranking at twice the default budget holds at four times it.
RANKINGS_DOUBLE := reports/double/results.csv reports/double_stacked_seeds/results.csv
RANKINGS_QUADRUPLE := reports/quadruple_stacked/results.csv
rankings: $(STAMP)
	ganbench rankings --base $(RANKINGS_BASE) --longer $(RANKINGS_LONGER) --out reports/rankings.md
	ganbench rankings --base $(RANKINGS_DOUBLE) --longer $(RANKINGS_QUADRUPLE) \
		--out reports/rankings_double.md

lint: $(STAMP)
	ruff check .
	ruff format --check .

test: lint data $(CLUSTER_STAMP)
	pytest

# Speed and memory of the metrics, as ratios against references measured in the same run;
# toy seed groups against seed-by-seed training, the training loop against a bare PyTorch
# loop, the image step's options (memory order, compile, threads) against its default,
# MLflow logging against training, stage start-up against importing torch, a launch on two
# local workers against a serial repro of the tests' tiny profile, bf16 mixed precision
# against fp32; then the wall time per stage group of the repro in this folder, if one
# finished here.
bench: data
	python bench/metrics.py
	python bench/toy_seeds.py
	python bench/train_step.py
	python bench/image_step.py
	python bench/tracking.py
	python bench/startup.py
	python bench/launch.py
	python bench/precision.py
	python bench/stage_groups.py

# Re-pin every installed package after a deliberate upgrade in pyproject.toml.
lock: $(STAMP)
	$(VENV)/bin/pip freeze --exclude-editable > requirements.lock
