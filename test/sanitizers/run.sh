#!/usr/bin/env bash
# The `asan` and `tsan` labels: runs the unit and integration tests of a sanitizer tree
# (build/asan-ubsan or build/tsan, made by scripts/sanitize, which scripts/test runs).
# A sanitizer report fails the test that triggered it (halt_on_error; every daemon the
# integration tests start is the sanitized build, since they take their binaries from
# the tree's bin/). Exits 77 (skip; a failure under scripts/test's rules) when the tree
# was not built.
# Usage: run.sh SOURCE_DIR asan-ubsan|tsan
set -uo pipefail
src=$(cd "${1:?SOURCE_DIR}" && pwd)
preset=${2:?preset}
tree=$src/build/$preset
if [ ! -f "$tree/CTestTestfile.cmake" ] || [ ! -x "$tree/bin/core_test" ]; then
  echo "SKIP: $tree is not built (scripts/sanitize $preset)"
  exit 77
fi
supp=$src/test/sanitizers
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
cd "$tree" || exit 1
# Sanitized binaries are slower: generous per-test timeouts. Two at a time by default
# (IL_SANITIZER_JOBS, else IL_TEST_JOBS), as the main run: tests sharing dockerd, Slurm or the
# API server hold its RESOURCE_LOCK.
ctest --output-on-failure -L '^(unit|integration)$' --timeout 1200 -j "${IL_SANITIZER_JOBS:-${IL_TEST_JOBS:-2}}"
