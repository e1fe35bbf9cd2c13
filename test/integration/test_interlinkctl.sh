#!/usr/bin/env bash
# scripts/interlinkctl (and the seed's docs/itwinctl.sh) in process mode with the real
# interlink and mock-sd: install to a private prefix, start, status (health through the
# listeners), restart of one daemon (a new pid, the other untouched), stop, and the errors
# an operator sees (a daemon that cannot start, an unknown sidecar).
# Usage: test_interlinkctl.sh BIN_DIR SOURCE_DIR
set -uo pipefail
bin=$(cd "${1:?BIN_DIR}" && pwd)
src=$(cd "${2:?SOURCE_DIR}" && pwd)
for b in interlink mock-sd; do
  [ -x "$bin/$b" ] || { echo "SKIP: $bin/$b is not built"; exit 77; }
done
box=$(mktemp -d)
ctl=$src/scripts/interlinkctl
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export INTERLINKCONFIGPATH=$box/InterLinkConfig.yaml PREFIX=$box/prefix IL_CTL_MODE=process \
  IL_CTL_RUN=$box/run IL_CTL_LOG=$box/log IL_CTL_BIN_DIR=$bin IL_CTL_STOP_TIMEOUT=10
unset SIDECAR SIDECARSERVICE
cleanup() { "$ctl" stop >/dev/null 2>&1; rm -rf "$box"; }
trap cleanup EXIT
il_port=$(port) sd_port=$(port)
cat >"$INTERLINKCONFIGPATH" <<YAML
InterlinkURL: "http://127.0.0.1"
InterlinkPort: "$il_port"
SidecarURL: "http://127.0.0.1"
SidecarPort: "$sd_port"
SidecarService: "mock"
MockStateFile: $box/mock.db
YAML

failures=0
check() {  # check NAME CONDITION-COMMAND...
  local name=$1
  shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; failures=$((failures + 1)); fi
}
pid() { cat "$box/run/$1.pid" 2>/dev/null; }

out=$("$ctl" install 2>&1)
check "install copies both binaries" test -x "$box/prefix/bin/interlink" -a -x "$box/prefix/bin/mock-sd"
check "install keeps an existing config" grep -q "kept the existing" <<<"$out"

out=$("$ctl" start 2>&1); rc=$?
echo "$out"
check "start succeeds" test $rc = 0
check "both run from the installed prefix" test "$(readlink /proc/"$(pid interlink)"/exe)" = "$box/prefix/bin/interlink"
out=$("$ctl" status 2>&1); rc=$?
echo "$out"
check "status exit 0 when both are healthy" test $rc = 0
check "status shows the sidecar's health" grep -q "mock-sd: running.*health ok" <<<"$out"
check "health answered on the configured interlink port" \
  test "$(curl -s "http://127.0.0.1:$il_port/healthz")" = ok
out=$("$ctl" start 2>&1)
check "a second start starts nothing" grep -q "already running" <<<"$out"

old_il=$(pid interlink) old_sd=$(pid mock-sd)
"$src/docs/itwinctl.sh" restart interlink >/dev/null 2>&1
check "restart (through the seed's docs/itwinctl.sh) gives interlink a new pid" \
  test -n "$(pid interlink)" -a "$(pid interlink)" != "$old_il"
check "restart of interlink leaves the sidecar alone" test "$(pid mock-sd)" = "$old_sd"
check "the old interlink is gone" test ! -d "/proc/$old_il"

"$ctl" stop >/dev/null 2>&1
"$ctl" status >/dev/null 2>&1; rc=$?
check "status exit 3 when stopped" test $rc = 3
check "stop removed the processes" test ! -d "/proc/$old_sd"

# A daemon that cannot start is reported with its log, and start fails.
sed -i "s/^InterlinkPort: .*/InterlinkPort: \"not-a-port\"/" "$INTERLINKCONFIGPATH"
out=$("$ctl" start interlink 2>&1); rc=$?
check "a bad config fails start" test $rc != 0
check "the failure shows the daemon's own error" grep -qi "InterlinkPort" <<<"$out"
out=$(SIDECAR=nope "$ctl" status 2>&1); rc=$?
check "an unknown sidecar is refused" test $rc != 0 -a -n "$(grep -o "unknown sidecar 'nope'" <<<"$out")"

[ $failures = 0 ] && echo "all interlinkctl checks passed" && exit 0
echo "$failures interlinkctl check(s) failed"
exit 1
