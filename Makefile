# The two commands of the README: `make run` and `make test`.
.PHONY: run test lint

run:
	./keycloak/bootstrap.sh
	.venv/bin/python -m collecte_kc.platform

test:
	./keycloak/bootstrap.sh --browser
	$(MAKE) --no-print-directory lint
	.venv/bin/python -m pytest

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy portal keycloak/collecte_kc
