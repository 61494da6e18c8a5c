#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian 12 machine: redis-server and chromium (the dashboard's
# browser tests) from Debian, npm deps.
# Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
  echo "[setup] redis-server not found: installing it from Debian's packages" >&2
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >&2
  # The Debian package starts a system-wide instance; the project never uses it (it starts a private one).
fi

# The dashboard's browser tests drive Debian's Chromium through playwright-core (no browser download from npm).
if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "[setup] chromium not found: installing it from Debian's packages" >&2
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >&2
fi

# npm dependencies: install when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.deps-stamp ] || [ package-lock.json -nt node_modules/.deps-stamp ]; then
  echo "[setup] installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  touch node_modules/.deps-stamp
fi
