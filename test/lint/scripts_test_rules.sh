#!/usr/bin/env bash
# Checks the house rule "the README's test command fails when a service could not be
# started or a test skipped; a developer may opt out, loudly" on scripts/test itself:
# runs a copy of it in a sandbox whose setup/build/service scripts are stubs and whose
# suite is test/lint/scripts_test (one test that skips when STUB_SKIP=1).
# Usage: scripts_test_rules.sh SOURCE_DIR
set -uo pipefail
src=$(cd "${1:?SOURCE_DIR}" && pwd)
box=$(mktemp -d)
trap 'rm -rf "$box"' EXIT
mkdir -p "$box/scripts/k8s" "$box/scripts/docker" "$box/scripts/slurm"
cp "$src/scripts/test" "$box/scripts/test"
stub() { printf '#!/usr/bin/env bash\n%s\n' "$2" >"$box/scripts/$1"; chmod +x "$box/scripts/$1"; }
stub setup 'exit 0'
stub k8s/build 'exit 0'
stub sanitize "echo sanitize \$1 >>'$box/sanitized'"
stub build "cmake -S '$src/test/lint/scripts_test' -B build/release >/dev/null"
for s in docker slurm k8s; do
  stub "$s/up" "case \" \${STUB_FAIL:-} \" in *\" $s \"*) echo '$s: cannot start'; exit 1;; esac; echo up >>'$box/started'"
  stub "$s/down" 'exit 0'
done

failures=0
# expect NAME WANT_RC(0|nonzero) WANT_TEXT [env...]
expect() {
  local name=$1 want=$2 text=$3
  shift 3
  rm -f "$box/started"
  out=$(env -u CI -u IL_TEST_ALLOW_SKIP -u IL_TEST_SKIP_SERVICES "$@" "$box/scripts/test" 2>&1)
  rc=$?
  local ok=1
  if [ "$want" = 0 ] && [ $rc != 0 ]; then ok=0; fi
  if [ "$want" != 0 ] && [ $rc = 0 ]; then ok=0; fi
  if ! grep -q -- "$text" <<<"$out"; then ok=0; fi
  if [ $ok = 1 ]; then
    echo "ok   $name (exit $rc)"
  else
    echo "FAIL $name: exit $rc, want $want and output with '$text'; output:"
    echo "$out" | tail -30 | sed 's/^/    /'
    failures=$((failures + 1))
  fi
}

expect "all services up, no skips" 0 "100% tests passed"
expect "a service does not start" nonzero "services that did not start: slurm" STUB_FAIL=slurm
expect "a test skips" nonzero "fixture.needs_service: SKIP: no service" STUB_SKIP=1
expect "developer opts out of a failed service" 0 "WARNING: incomplete run" \
  STUB_FAIL=docker IL_TEST_ALLOW_SKIP=1
expect "developer runs without services" 0 "fixture.needs_service" \
  STUB_SKIP=1 IL_TEST_SKIP_SERVICES=1
expect "CI ignores the opt-outs" nonzero "FAIL: services are required" \
  STUB_SKIP=1 IL_TEST_SKIP_SERVICES=1 CI=true
[ -f "$box/started" ] || { echo "FAIL: with CI set the services were not started"; failures=$((failures + 1)); }
grep -q "sanitize tsan" "$box/sanitized" 2>/dev/null ||
  { echo "FAIL: the sanitizer trees were not built"; failures=$((failures + 1)); }
exit $((failures > 0))
