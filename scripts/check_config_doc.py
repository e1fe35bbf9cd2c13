#!/usr/bin/env python3
"""Checks docs/configuration.md against the declared configuration keys (issue 11 item 6).

usage: check_config_doc.py IL_CONFIG_KEYS_BINARY DOC.md [--rows COMPONENT]

The binary (src/daemon/config_keys_main.cc) prints every component's keys, one per line:
component, name, aliases, env vars, type, default, subkeys, doc (tab-separated). The check:
  1. every declared key name appears in a table of the doc (as `Key` or `Key.Sub`);
  2. every declared environment variable appears in the doc (as `VAR`);
  3. every key the doc's tables list (first column, in backticks, of tables whose first
     header is "key") is declared: its first segment is a key or an alias, and for a
     block with declared sub-keys, its second segment is one of them.
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


def doc_table_keys(text):
    """Keys listed in the first column of the doc's 'key' tables, expanded to full names."""
    keys = []
    in_key_table = False
    for line in text.splitlines():
        if not line.startswith("|"):
            in_key_table = False
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == "key":
            in_key_table = True
            continue
        if not in_key_table or set(cells[0]) <= set("-: "):
            continue
        parent = ""
        for tok in re.findall(r"`([^`]+)`", cells[0]):
            if tok.startswith("."):
                tok = parent + tok
            elif "." not in tok and parent:
                tok = parent + "." + tok
            if "." in tok:
                parent = tok.rsplit(".", 1)[0]
            keys.append(tok)
    return keys


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
    text = open(argv[2], encoding="utf-8").read()
    listed = doc_table_keys(text)
    listed_tops = {t.split(".", 1)[0] for t in listed}
    tokens = set(re.findall(r"`([^`]+)`", text))
    errors = []
    by_name = {}
    for k in keys:
        for n in [k["name"]] + k["aliases"]:
            by_name.setdefault(n, []).append(k)
        if k["name"] not in listed_tops:
            errors.append(f"{k['component']}: key {k['name']} is declared but not in a table of "
                          f"{argv[2]}")
        for e in k["env"]:
            if e not in tokens:
                errors.append(f"{k['component']}: variable {e} (key {k['name']}) is declared but "
                              f"not in {argv[2]}")
    for t in listed:
        parts = t.split(".")
        decls = by_name.get(parts[0])
        if not decls:
            errors.append(f"{argv[2]} lists key {t}, which no component declares")
            continue
        if len(parts) > 1:
            subs = {s for d in decls for s in d["subkeys"]}
            if subs and parts[1] not in subs:
                errors.append(f"{argv[2]} lists key {t}, but {parts[0]} declares only "
                              f"{', '.join(sorted(subs))}")
    for e in errors:
        print(e)
    if not errors:
        print(f"{len(keys)} declared keys and {len(listed)} documented keys agree")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
