#!/usr/bin/env bash
# cqvet-qa in one command.
#   ./run.sh        set up .venv, convert the embedding model and build the index if needed, start the chat UI
#   ./run.sh test   set up the same way (plus the test tools), then run the test suite
# Both are idempotent: a second run only checks and starts.
set -euo pipefail
cd "$(dirname "$0")"

venv=.venv
py="$venv/bin/python"

setup() {
  if [ ! -x "$py" ]; then
    python3 -m venv "$venv"
  fi
  # CPU-only torch from this machine's local wheel first; an unpinned torch would pull a CUDA build.
  "$py" -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
  "$py" -m pip install --quiet --disable-pip-version-check -e ".$1"
  # Converts the bundled model (once) and builds index/ when it is missing or stale.
  "$venv/bin/cqvet-qa" build
}

browser() {
  # The UI tests drive Debian's Chromium; install it when missing (needs root, as on CI).
  if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
    else
      echo "run.sh: /usr/bin/chromium is missing; install Debian's chromium for the browser tests" >&2
    fi
  fi
}

case "${1:-}" in -*) set -- serve "$@" ;; esac  # ./run.sh --port P is ./run.sh serve --port P

case "${1:-serve}" in
  serve)
    setup ""
    exec "$venv/bin/cqvet-qa" serve "${@:2}"
    ;;
  test)
    setup "[test]"
    browser
    exec "$py" -m pytest "${@:2}"
    ;;
  *)
    echo "usage: ./run.sh [serve [--host H] [--port P] | test [pytest args]]" >&2
    exit 2
    ;;
esac
