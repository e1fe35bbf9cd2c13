#!/usr/bin/env bash
# Checks scripts/lint_tidy.py's result cache on a two-file project of its own: a clean unit is
# checked once and then comes from the cache; a change in a header it includes (not in the
# .cc itself) is a cache miss whose finding is reported and fails the run, every time, until
# it is fixed; a change of .clang-tidy's settings (not of its comments) invalidates every entry.
# Usage: tidy_cache_test.sh SOURCE_DIR
set -uo pipefail
src=$(cd "${1:?SOURCE_DIR}" && pwd)
command -v clang-tidy >/dev/null || { echo "clang-tidy not found (scripts/setup fuzz)"; exit 77; }
box=$(mktemp -d)
trap 'rm -rf "$box"' EXIT
mkdir -p "$box/proj/src" "$box/proj/build"
cat >"$box/proj/.clang-tidy" <<'EOF'
Checks: '-*,performance-unnecessary-value-param'
HeaderFilterRegex: 'src/.*'
EOF
cat >"$box/proj/src/unit.cc" <<'EOF'
#include "unit.h"
int Size(const Big& b) { return static_cast<int>(b.s.size()); }
EOF
cat >"$box/proj/src/unit.h" <<'EOF'
#include <string>
struct Big { std::string s; };
inline int Length(const Big& b) { return static_cast<int>(b.s.size()); }
EOF
cat >"$box/proj/build/compile_commands.json" <<EOF
[{"directory": "$box/proj/build", "file": "$box/proj/src/unit.cc",
  "command": "/usr/bin/c++ -I$box/proj/src -std=c++20 -o unit.o -c $box/proj/src/unit.cc"}]
EOF

failures=0
run() {  # run WANT_RC WANT_TEXT: one lint run over the box
  local want=$1 text=$2 out rc
  out=$("$src/scripts/lint_tidy.py" "$box/proj/build" "$box/proj" --cache "$box/cache" 2>&1)
  rc=$?
  if [ "$rc" != "$want" ] || ! grep -q -- "$text" <<<"$out"; then
    echo "FAIL: wanted rc $want and '$text', got rc $rc:"
    echo "$out" | sed 's/^/    /'
    failures=$((failures + 1))
  else
    echo "ok: rc $rc, $text"
  fi
}

run 0 "1 checked clean, 0 clean from the cache"
run 0 "0 checked clean, 1 clean from the cache"
# A finding in the header only: the .cc is unchanged, the preprocessed unit is not.
sed -i 's/inline int Length(const Big& b)/inline int Length(Big b)/' "$box/proj/src/unit.h"
run 1 "performance-unnecessary-value-param"
run 1 "1 with findings"  # findings are never cached
sed -i 's/inline int Length(Big b)/inline int Length(const Big\& b)/' "$box/proj/src/unit.h"
run 0 "0 checked clean, 1 clean from the cache"  # back to the content that was clean
echo "# a comment does not change the verdict" >>"$box/proj/.clang-tidy"
run 0 "0 checked clean, 1 clean from the cache"
echo "WarningsAsErrors: ''" >>"$box/proj/.clang-tidy"  # a setting does
run 0 "1 checked clean, 0 clean from the cache"

[ "$failures" = 0 ] && echo "tidy cache: all checks passed" && exit 0
echo "tidy cache: $failures check(s) failed"
exit 1
