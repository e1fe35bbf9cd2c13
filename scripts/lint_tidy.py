#!/usr/bin/python3
"""clang-tidy over every translation unit of a build, with a result cache (scripts/lint tidy).

A clean result is remembered under a key that covers everything clang-tidy's verdict depends
on: the clang-tidy version, .clang-tidy, the compile flags and the preprocessed translation
unit (the .cc with every header it includes). An unchanged unit is then a cache hit that costs
one preprocessor run instead of a clang-tidy run; findings are never cached, so a unit with
findings is checked again every time until it is clean.

Usage: lint_tidy.py BUILD_DIR SOURCE_DIR [--cache DIR] [--jobs N] [--regex RE] [FILE...]
Exit: 0 clean, 1 findings (printed), 2 usage or tool errors.
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import time


def tidy_version():
    out = subprocess.run(["clang-tidy", "--version"], capture_output=True, text=True, check=True)
    return out.stdout


def arguments(entry):
    if "arguments" in entry:
        return list(entry["arguments"])
    return shlex.split(entry["command"])


def preprocess_argv(args, root):
    """The compile command turned into `-E -P` to stdout, without outputs or dependency files.

    -P drops line markers and -fmacro-prefix-map drops the checkout's path from __FILE__, so
    the same source gives the same key in any clone of the project.
    """
    out = [args[0]]
    skip = False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if a in ("-c", "-MD", "-MMD") or a.startswith("-o"):
            continue
        out.append(a)
    return out + ["-E", "-P", f"-fmacro-prefix-map={root}/=", "-o", "-"]


def unit_key(entry, root, salt):
    args = arguments(entry)
    pp = subprocess.run(preprocess_argv(args, root), cwd=entry["directory"],
                        capture_output=True, check=False)
    if pp.returncode != 0:
        return None, pp.stderr.decode(errors="replace")
    h = hashlib.sha256(salt)
    flags = [a.replace(root, ".") for a in args if not a.startswith("-o")]
    h.update("\0".join(flags).encode())
    h.update(os.path.relpath(entry["file"], root).encode())
    h.update(pp.stdout)
    return h.hexdigest(), ""


def run_tidy(build, path):
    r = subprocess.run(["clang-tidy", "-quiet", "-p", build, "--warnings-as-errors=*", path],
                       capture_output=True, text=True, check=False)
    # clang-tidy prints "N warnings generated." for suppressed (system) warnings: not findings.
    noise = re.compile(r"^\d+ warnings? (and \d+ errors? )?generated\.$")
    text = "\n".join(l for l in (r.stdout + r.stderr).splitlines() if not noise.match(l.strip()))
    return r.returncode, text.strip()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("build")
    p.add_argument("source")
    p.add_argument("files", nargs="*")
    p.add_argument("--cache", default=os.path.join(
        os.environ.get("INTERLINK_CACHE", "/var/cache/interlink-cpp"), "clang-tidy"))
    p.add_argument("--jobs", type=int, default=int(os.environ.get("IL_JOBS", "2")))
    p.add_argument("--regex", default=r"/(src|fuzz|bench)/")
    a = p.parse_intermixed_args()

    build = os.path.abspath(a.build)
    root = os.path.abspath(a.source)
    try:
        with open(os.path.join(build, "compile_commands.json")) as f:
            entries = json.load(f)
    except OSError as e:
        print(f"lint tidy: {e} (configure first: cmake --preset release)", file=sys.stderr)
        return 2
    wanted = {os.path.abspath(f) for f in a.files}
    pattern = re.compile(re.escape(root) + a.regex)
    units = [e for e in entries
             if (os.path.abspath(e["file"]) in wanted if wanted else pattern.match(e["file"]))]
    if wanted and len({os.path.abspath(e["file"]) for e in units}) != len(wanted):  # a unit may be in 2 targets
        missing = wanted - {os.path.abspath(e["file"]) for e in units}
        print(f"lint tidy: not in {build}/compile_commands.json: {sorted(missing)}",
              file=sys.stderr)
        return 2

    with open(os.path.join(root, ".clang-tidy")) as f:
        # Comment lines do not change a verdict: editing them keeps the cache.
        config = "".join(l for l in f if not l.lstrip().startswith("#"))
    salt = (tidy_version() + "\0" + config).encode()
    os.makedirs(a.cache, exist_ok=True)

    def check(entry):
        key, err = unit_key(entry, root, salt)
        rel = os.path.relpath(entry["file"], root)
        if key is None:
            return rel, "error", f"preprocessing failed:\n{err}"
        marker = os.path.join(a.cache, key[:2], key)
        if os.path.exists(marker):
            return rel, "cached", ""
        rc, text = run_tidy(build, entry["file"])
        if rc != 0:
            return rel, "findings", text or f"clang-tidy exited {rc}"
        os.makedirs(os.path.dirname(marker), exist_ok=True)
        with open(marker + ".tmp", "w") as f:
            f.write(rel + "\n")
        os.replace(marker + ".tmp", marker)
        return rel, "checked", ""

    started = time.monotonic()
    counts = {"cached": 0, "checked": 0, "findings": 0, "error": 0}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        for done, (rel, verdict, text) in enumerate(pool.map(check, units), 1):
            counts[verdict] += 1
            if text:
                print(f"--- {rel}: {verdict}\n{text}", flush=True)
            if done % 25 == 0 and counts["checked"] + counts["findings"]:
                # A cold cache takes minutes: say how far it is and how long the rest may take.
                took = time.monotonic() - started
                print(f"lint tidy: {done}/{len(units)} units in {took:.0f} s, about "
                      f"{took / done * (len(units) - done):.0f} s left", flush=True)
    took = time.monotonic() - started
    print(f"lint tidy: {len(units)} units, {counts['checked']} checked clean, "
          f"{counts['cached']} clean from the cache ({a.cache}), {counts['findings']} with "
          f"findings, {counts['error']} errors, {took:.0f} s")
    if counts["findings"] or counts["error"]:
        print("lint tidy: every clang-tidy warning is an error (.clang-tidy; "
              "NOLINT(check) with a reason where a finding is wrong)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
