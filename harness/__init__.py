"""The test harness of consul-chart: helm template rendered into objects, the kind cluster and
releases of the chart in it, Consul's API, the leader watch and writers the chaos tier measures
with, and a pytest plugin (harness.plugin) with every tier's fixtures. Installed into the test
environments (tox), so tests and bench/ import it by name."""
