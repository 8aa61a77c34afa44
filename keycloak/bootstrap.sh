#!/usr/bin/env bash
# Installs what the project needs on a fresh machine: the Python virtualenv with every
# dependency, the pinned Keycloak distribution and, with --browser (the tests), Debian's Chromium,
# nginx, PostgreSQL and Redis, and oauth2-proxy (the relying party nobody here wrote,
# tests/integration/test_relying_party.py).
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
# Reinstall only when pyproject.toml changed since the last install.
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -e "$stamp" ]; then
  # pip's and setuptools' own notices (the editable install of a project with two source roots,
  # `.` and `keycloak/`, always warns) go to a log, shown only if the install fails.
  mkdir -p .data
  pip_log=.data/installation-python.log
  echo "Installation des paquets Python (journal : $pip_log)…"
  if ! { .venv/bin/pip install --quiet --upgrade pip \
         && .venv/bin/pip install --quiet -e '.[dev,redis]'; } >"$pip_log" 2>&1; then
    cat "$pip_log" >&2
    echo "L'installation des paquets Python a échoué (voir ci-dessus)." >&2
    exit 1
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi

.venv/bin/python -m collecte_kc.dist >/dev/null

# The tests' Debian packages: Chromium (end-to-end tests), nginx, PostgreSQL and Redis (the
# production topology, collecte_kc.production, tests/production/).
if [ "${1:-}" = "--browser" ]; then
  missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
  [ -x /usr/bin/redis-server ] || missing+=(redis-server)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "Installation des paquets Debian des tests : ${missing[*]}…"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
      # Debian starts the services it installs; the tests start their own.
      service nginx stop >/dev/null 2>&1 || true
      service postgresql stop >/dev/null 2>&1 || true
      service redis-server stop >/dev/null 2>&1 || true
    else
      echo "Paquets Debian nécessaires aux tests : ${missing[*]} (installez-les)." >&2
      exit 1
    fi
  fi
fi

# oauth2-proxy, pinned, built once from the Go module proxy into .cache/ for the relying-party tests;
# skipped when the binary is there. Measured on two busy cores: 291 s with the module downloads,
# 212 s with the modules already in Go's cache.
OAUTH2_PROXY_VERSION=v7.15.6
oauth2_proxy_dir=.cache/oauth2-proxy-$OAUTH2_PROXY_VERSION
if [ "${1:-}" = "--browser" ] && [ ! -x "$oauth2_proxy_dir/oauth2-proxy" ]; then
  go=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
  if [ ! -x "$go" ]; then
    echo "Go est nécessaire pour construire oauth2-proxy (tests) : installez Go ≥ 1.26 ou indiquez GO=…" >&2
    exit 1
  fi
  echo "Construction d'oauth2-proxy $OAUTH2_PROXY_VERSION (module Go, une seule fois)…"
  mkdir -p "$oauth2_proxy_dir"
  GOTOOLCHAIN=local GOFLAGS=-trimpath GOBIN="$PWD/$oauth2_proxy_dir" \
    "$go" install "github.com/oauth2-proxy/oauth2-proxy/v7@$OAUTH2_PROXY_VERSION"
fi

# compose-check: Docker Compose's own loader (compose-go, pinned in keycloak/tools/compose-check/go.mod)
# in a small program, built once into .cache/ from the Go module proxy: the tests validate
# docker-compose.yml with it, no Docker engine needed (tests/unit/tooling/test_containers.py).
compose_check=.cache/compose-check/compose-check
if [ "${1:-}" = "--browser" ] && [ ! -x "$compose_check" ]; then
  go=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
  echo "Construction de compose-check (chargeur de Docker Compose, une seule fois)…"
  mkdir -p .cache/compose-check
  (cd keycloak/tools/compose-check && GOTOOLCHAIN=local GOFLAGS=-trimpath \
    "$go" build -o "$OLDPWD/$compose_check" .)
fi

