#!/usr/bin/env bash
# docker-sd beside plain `docker run` (docs/docker-sidecar.md, "Figures").
# Usage: bench/docker_bench.sh [--quick] [-n N] [-c 1,4] [--cmd 'true']
#   IL_BIN_DIR: where docker-sd is (default: build/release/bin, else any build/*/bin with it).
# Starts Docker through scripts/docker/up when none answers; exit 77 when it cannot.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${IL_BIN_DIR:-}
if [ -z "$bin" ]; then
  for d in "$root/build/release/bin" "$root"/build/*/bin; do
    if [ -x "$d/docker-sd" ] && [ -x "$d/il-pause" ]; then bin=$d; break; fi
  done
fi
[ -n "$bin" ] || { echo "docker_bench: no docker-sd binary found (build target docker-sd)" >&2; exit 1; }
exec python3 "$root/bench/docker_bench.py" --bin-dir "$bin" --source-dir "$root" "$@"
