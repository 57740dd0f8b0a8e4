# Every target sets itself up: `make run` and `make test` work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ENV ?= dev
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .stamps
# The project's Node 22 and CDK CLI come first: Node 20 is end-of-life.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
PYTEST_ARGS ?=

.PHONY: help setup synth test lint format diff deploy destroy run score stop approve clean-local summary clean bench bench-local image up down synth-delivery deploy-delivery bench-synth bench-scale traffic monitor

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: $(STAMPS)/python $(STAMPS)/node ## Install the Python venv and the Node toolchain (skipped when up to date)

$(STAMPS)/python: requirements.txt requirements-dev.txt lambdas/requirements.txt training_code/requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@mkdir -p $(STAMPS) && touch $@

# checkov has many dependencies of its own: its own venv, so it cannot move the project's pins.
CHECKOV_VENV := .venv-checkov
$(STAMPS)/checkov: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@mkdir -p $(STAMPS) && touch $@

# The AWS CLI and the SageMaker SDK the local cloud is tested with: their own venv, as awscli pins botocore exactly.
CLIENTS_VENV := .venv-clients
$(STAMPS)/clients: requirements-clients.txt
	$(PYTHON) -m venv $(CLIENTS_VENV)
	$(CLIENTS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-clients.txt
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/node: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(STAMPS) && touch $@

synth: setup ## Synthesize ENV's stage (dev|prod|all) into cdk.out, policy gates included
	cdk synth --quiet -c env=$(ENV) '**'  # '**': the CLI fails on gate errors only in the stacks it selects

summary: synth ## Print each stack's resources by type and the cdk-nag outcome
	$(PY) tools/synth_summary.py

RUN_ARGS ?=
run: setup ## The main job: the synthesized state machine end to end on this machine (RUN_ARGS="--algorithm ridge ...")
	$(PY) -m local_runner run $(RUN_ARGS)

SCORE_ARGS ?=
score: setup ## Score a CSV offline with the newest approved model, as the batch-scoring workflow does (after make run)
	$(PY) -m local_runner score $(SCORE_ARGS)

stop: setup ## Stop the local endpoints `make run` left serving
	$(PY) -m local_runner stop

approve: setup ## Approve the newest model a prod run registered and deploy it locally (ENV=prod)
	$(PY) -m local_runner approve --env $(if $(filter dev,$(ENV)),prod,$(ENV))

PORT ?=
UP_ARGS ?=
up: setup ## Start the local cloud: the AWS APIs on 127.0.0.1:4566 for the CLI, boto3, the SDK (PORT=4567, ENV=prod)
	$(PY) -m local_runner.server up --env $(ENV) $(if $(PORT),--port $(PORT),) $(UP_ARGS)

DOWN_ARGS ?=
down: ## Stop the local cloud `make up` started; its state stays in .local/ for the next `make up`
	@if [ -x $(PY) ]; then $(PY) -m local_runner.server down $(DOWN_ARGS); fi

TRAFFIC_ARGS ?=
traffic: setup ## Send dataset rows to the local endpoint, captured as SageMaker does (TRAFFIC_ARGS="--drift 1=3")
	$(PY) -m local_runner traffic $(TRAFFIC_ARGS)

monitor: setup ## Run the monitoring workflow now: violations, the drift report, a retraining run (docs/monitoring.md)
	$(PY) -m local_runner monitor $(if $(filter-out dev,$(ENV)),--env $(ENV),)

clean-local: ## Stop the local endpoints and delete the local runner's state (.local/: S3, SageMaker, synth)
	@if [ -f .local/server.json ] && [ -x $(PY) ]; then $(PY) -m local_runner.server down; fi
	@if [ -d .local/runner ] && [ -x $(PY) ]; then $(PY) -m local_runner stop; fi
	rm -rf .local

destroy: setup ## Delete ENV's stacks (needs AWS credentials); retained resources stay: see docs/pipeline.md
	cdk destroy -c env=$(ENV) 'SageMakerPipeline-$(ENV)/*'

bench-local: setup ## Wall time of each state of the default local run (tuning 8 jobs, 2 at a time)
	$(PY) -m local_runner bench

bench-synth: setup ## Synthesis time: make synth ENV=all against an empty CDK app, best of 3, in turn
	$(PY) bench/synth.py --repeat 3 --env all

test: setup $(STAMPS)/checkov $(STAMPS)/clients ## Run the whole test suite
	$(PY) -m pytest -n 2 --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)  # loadfile: a module's fixtures (a local cloud server, a synthesis, a run) are built once; modules go out in the order tests/conftest.py sets

lint: synth $(STAMPS)/checkov ## Ruff and the import layers over the code; cfn-lint and checkov over the synthesized templates
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache  # the layers of docs/architecture.md (.importlinter)
	$(VENV)/bin/cfn-lint --config-file .cfnlintrc.yaml cdk.out/assembly-*/*.template.json
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation $(addprefix -d ,$(wildcard cdk.out/assembly-*))

SCALE_ARGS ?=
bench-scale: setup ## Scale-out benchmark: 1 vs 2 training hosts, xgboost in memory vs out of core, 1 vs 2 processing instances
	$(PY) bench/scale.py $(SCALE_ARGS)

bench: setup ## Serving benchmark: ours vs gunicorn+Flask vs MLflow under wrk (installs wrk if missing)
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(PY) bench/run.py --duration 10 --repeat 3

image: ## Build the training/inference image (needs a Docker engine; cdk deploy builds it too)
	docker build -t ml-pipeline-container training_code/

format: setup ## Apply ruff's formatting and safe fixes
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

synth-delivery: setup ## Synthesize the delivery pipeline (config/delivery/pipeline.json) with its dev and prod stages
	cdk synth --quiet -c delivery=true '**'

deploy-delivery: setup ## Deploy the delivery pipeline into the tooling account, once (docs/delivery.md)
	cdk deploy -c delivery=true --require-approval broadening Delivery

diff: setup ## Compare ENV's stacks with what is deployed (needs AWS credentials)
	cdk diff -c env=$(ENV) 'SageMakerPipeline-$(ENV)/*'

deploy: setup ## Deploy ENV's stacks (needs AWS credentials and a bootstrapped account)
	cdk deploy -c env=$(ENV) --require-approval broadening 'SageMakerPipeline-$(ENV)/*'

clean: ## Remove build output (keeps the venv and node_modules)
	rm -rf cdk.out .pytest_cache

.PHONY: notebook
NOTEBOOK_ARGS ?=
# Jupyter refuses to start as root without --allow-root: containers and CI often run as root.
NOTEBOOK_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
notebook: setup $(STAMPS)/notebook ## Open notebooks/quickstart.ipynb in JupyterLab (PIPELINE_BACKEND=aws: the deployed stacks)
	$(VENV)/bin/jupyter lab $(NOTEBOOK_ROOT) $(NOTEBOOK_ARGS) notebooks/quickstart.ipynb

# JupyterLab only for `make notebook`: CI executes the notebook with nbclient and needs none of it.
$(STAMPS)/notebook: notebooks/requirements.txt $(STAMPS)/python
	$(PY) -m pip install --quiet --disable-pip-version-check -r notebooks/requirements.txt
	@mkdir -p $(STAMPS) && touch $@
