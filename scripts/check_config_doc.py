#!/usr/bin/env python3
"""Checks a doc's configuration tables against the declared keys (issue 11 item 6).

usage: check_config_doc.py IL_CONFIG_KEYS_BINARY DOC.md [--component C]... [--complete C]...
       check_config_doc.py IL_CONFIG_KEYS_BINARY DOC.md --rows COMPONENT

The binary (src/daemon/config_keys_main.cc) prints every component's keys, one per line:
component, name, aliases, env vars, type, default, subkeys, doc (tab-separated). The doc's
key tables are the tables whose first header is "key"; the keys they list are the backticked
names of the first column (`Key`, `Key.Sub`, `.Sub` after a `Key.Sub`). The check:
  1. every key the doc's tables list is declared by one of the doc's components: its first
     segment is a key or an alias, and for a block with declared sub-keys, its second
     segment is one of them;
  2. every environment variable in an "env" column of those tables is declared by one of
     the doc's components;
  3. for each complete component, every key it declares is in a table of the doc (as `Key`
     or `Key.Sub`; a key declared as "Block.Sub" must be listed as such), and every
     variable it declares appears in the doc (as `VAR`).
The doc's components are the --component and --complete ones; with neither option, every
component is complete (docs/configuration.md, the page of all keys).
Exit 0 when they agree, 1 with one line per disagreement otherwise.
--rows COMPONENT prints table rows for that component's keys (to paste into the doc).
"""
import re
import subprocess
import sys


def declared(binary):
    out = subprocess.run([binary], check=True, capture_output=True, text=True).stdout
    keys = []
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) != 8:
            raise SystemExit(f"bad line from {binary}: {line!r}")
        comp, name, aliases, env, typ, default, subkeys, doc = f
        keys.append({
            "component": comp, "name": name, "aliases": [a for a in aliases.split(",") if a],
            "env": [e for e in env.split(",") if e], "type": typ, "default": default,
            "subkeys": [s for s in subkeys.split(",") if s], "doc": doc,
        })
    return keys


def doc_tables(text):
    """Keys (expanded to full names) and env variables of the doc's 'key' tables."""
    keys, env = [], []
    env_col = None
    in_key_table = False
    for line in text.splitlines():
        if not line.startswith("|"):
            in_key_table = False
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == "key":
            in_key_table = True
            env_col = cells.index("env") if "env" in cells else None
            continue
        if not in_key_table or set(cells[0]) <= set("-: "):
            continue
        parent = ""
        for tok in re.findall(r"`([^`]+)`", cells[0]):
            tok = tok.removesuffix("[]")  # a list of blocks: `Resources.Accelerators[]`
            if tok.startswith("."):
                tok = parent + tok
            elif "." not in tok and parent:
                tok = parent + "." + tok
            if "." in tok:
                parent = tok.rsplit(".", 1)[0]
            keys.append(tok)
        if env_col is not None and env_col < len(cells):
            env.extend(re.findall(r"`([^`]+)`", cells[env_col]))
    return keys, env


def check(keys, path, text, components, complete):
    """The disagreements between the doc and the declarations of `components`."""
    listed, listed_env = doc_tables(text)
    listed_set = set(listed)
    listed_tops = {t.split(".", 1)[0] for t in listed}
    # Per line: a stray backtick (a code fence) must not shift the pairs of the whole text.
    tokens = {t for line in text.splitlines() for t in re.findall(r"`([^`]+)`", line)}
    errors = []
    by_name, declared_env = {}, set()
    for k in keys:
        if k["component"] not in components:
            continue
        for n in [k["name"]] + k["aliases"]:
            by_name.setdefault(n, []).append(k)
        declared_env.update(k["env"])
        if k["component"] not in complete:
            continue
        documented = k["name"] in (listed_set if "." in k["name"] else listed_tops)
        if not documented:
            errors.append(f"{k['component']}: key {k['name']} is declared but not in a table of "
                          f"{path}")
        for e in k["env"]:
            if e not in tokens:
                errors.append(f"{k['component']}: variable {e} (key {k['name']}) is declared but "
                              f"not in {path}")
    owners = ", ".join(sorted(components))
    for t in listed:
        parts = t.split(".")
        decls = by_name.get(parts[0])
        if not decls:
            errors.append(f"{path} lists key {t}, which no component of {owners} declares")
            continue
        if len(parts) > 1:
            subs = {s for d in decls for s in d["subkeys"]}
            if subs and parts[1] not in subs:
                errors.append(f"{path} lists key {t}, but {parts[0]} declares only "
                              f"{', '.join(sorted(subs))}")
    for e in listed_env:
        if e not in declared_env:
            errors.append(f"{path} lists variable {e}, which no key of {owners} declares")
    return errors, len(listed)


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    keys = declared(argv[1])
    if len(argv) == 5 and argv[3] == "--rows":
        for k in keys:
            if k["component"] != argv[4]:
                continue
            env = ", ".join(f"`{e}`" for e in k["env"])
            names = " / ".join(f"`{n}`" for n in [k["name"]] + k["aliases"])
            default = f"`{k['default']}`" if k["default"] else ""
            print(f"| {names} | {env} | {default} | {k['doc']} |")
        return 0
    path = argv[2]
    components, complete = set(), set()
    opts = argv[3:]
    if len(opts) % 2:
        print(__doc__)
        return 2
    for opt, value in zip(opts[::2], opts[1::2]):
        if opt not in ("--component", "--complete"):
            print(__doc__)
            return 2
        components.add(value)
        if opt == "--complete":
            complete.add(value)
    all_components = {k["component"] for k in keys}
    if not components:
        components = complete = all_components
    unknown = components - all_components
    if unknown:
        known = ", ".join(sorted(all_components))
        print(f"no component {', '.join(sorted(unknown))} (known: {known})")
        return 2
    text = open(path, encoding="utf-8").read()
    errors, n_listed = check(keys, path, text, components, complete)
    for e in errors:
        print(e)
    if not errors:
        n_declared = sum(1 for k in keys if k["component"] in complete)
        print(f"{path}: {n_listed} documented keys are declared"
              + (f"; {n_declared} declared keys are documented" if complete else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
