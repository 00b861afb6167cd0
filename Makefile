# Entry points of the project. `make up` gives a kind cluster with the chart installed;
# `make test` runs everything CI runs. PYTEST_ARGS is passed through to pytest.
SHELL := /bin/bash
include hack/versions.env

PYTHON ?= python3
VENV := .venv
TOX := $(VENV)/bin/tox
CACHE ?= $(or $(CONSUL_CHART_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/consul-chart)
export KUBECONFIG ?= $(CACHE)/kubeconfig
HELM := .tools/bin/helm
RELEASE ?= consul
NAMESPACE ?= consul
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: tools lint test-unit cluster cluster-down up up-from-nothing test-cluster test-idle previous-consul test-chaos test bench docs

## tools: helm 3, helm 4 and ct built into .tools/bin, and tox in .venv
tools: $(TOX)
	bash hack/install-tools.sh

$(TOX):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet "tox==4.67.15"

## lint: ruff, helm lint --strict, and chart-testing's `ct lint` over chart/ and chart/ci/
lint: tools
	$(TOX) -e lint
	PATH="$(CURDIR)/.tox/lint/bin:$(CURDIR)/.tools/bin:$$PATH" .tools/bin/ct lint --config ct.yaml

## test-unit: the unit tier under helm 3 and helm 4
test-unit: tools
	$(TOX) -e unit -- $(PYTEST_ARGS)

## cluster / cluster-down: the local multi-node kind cluster (images built here if missing)
cluster:
	bash hack/cluster-up.sh

cluster-down:
	bash hack/cluster-down.sh

## up: a kind cluster with the chart installed as release $(RELEASE) in namespace $(NAMESPACE)
up: tools cluster
	$(HELM) upgrade --install $(RELEASE) chart --namespace $(NAMESPACE) --create-namespace \
	  --values hack/kind-values.yaml --wait --timeout 10m
	$(HELM) test $(RELEASE) --namespace $(NAMESPACE)

## up-from-nothing: `make up` as on a fresh machine: cluster, project images, tool links and
## venvs removed, then an empty cache (COLD_CACHE, default a new temporary dir); prints the time
up-from-nothing:
	bash hack/up-from-nothing.sh

## test-cluster: the cluster tier against the cluster of `make cluster`
test-cluster: tools cluster
	$(TOX) -e kind -- -m cluster -n 2 --dist loadfile --durations=15 tests/cluster $(PYTEST_ARGS)

## test-idle: the idle tier (one release left alone for IDLE_MINUTES, 2 unless set, its leader
## watched throughout) against that cluster
test-idle: tools cluster
	$(TOX) -e kind -- -m idle tests/idle $(PYTEST_ARGS)

## previous-consul: the older Consul image the chaos tier upgrades from, loaded into the cluster
previous-consul: cluster
	bash hack/previous-consul.sh

## test-chaos: the chaos tier (faults, with TLS and ACLs on) against that cluster; prints figures
test-chaos: tools cluster previous-consul
	$(TOX) -e kind -- -m chaos --durations=15 tests/chaos $(PYTEST_ARGS)

## test: everything CI runs, every tier even after a failed one, then a table of the tiers' wall
## times, counts and the evidence folders of failed tests
test:
	bash hack/test-all.sh

## bench: benchmarks on that cluster (this chart, the seeds' layouts, the floor); prints a table.
## BENCH_ARGS passes flags, e.g. BENCH_ARGS="--runs 5 --sections install,failover"
bench: tools cluster
	$(TOX) -e bench -- $(BENCH_ARGS)

## docs: regenerate the README's values table and the schema's descriptions from chart/values.yaml
docs: $(TOX)
	$(TOX) -e docs
