#!/usr/bin/env bash
# Virtual kubelet benchmark through the whole stack (bench/vk_bench.py; docs/virtual-kubelet.md).
# Starts (or reuses) the local control plane with scripts/k8s/up.
cd "$(dirname "$0")/.." || exit 1
python3 bench/vk_bench.py "${IL_BIN_DIR:-build/release/bin}" . "$@"
rc=$?
if [ $rc -eq 77 ]; then echo "vk_bench: skipped (no control plane or binaries)"; exit 0; fi
exit $rc
