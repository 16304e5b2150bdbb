#!/usr/bin/env python3
"""check_layers.py — enforce project.yml's dependency rule (run by `make test`).

For every .c/.h under a layer's directory:
  * each `#include "X/..."` must name a layer in the file's `may_include`;
  * no `#include <h>` may name a header in the layer's `forbidden_system_headers`;
and every .c must be declared in the layer's `modules` and have test/test_<basename>.c.
Exit status 1 with one line per violation; 0 and a summary line otherwise.
"""
import os
import re
import sys

import yaml

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def main(manifest):
    with open(manifest) as f:
        spec = yaml.safe_load(f)
    layers = spec["layers"]
    layer_dirs = {name: l["dir"] for name, l in layers.items()}
    problems, files = [], 0
    for name, layer in layers.items():
        root = layer["dir"]
        allowed = set(layer.get("may_include", []))
        forbidden = set(layer.get("forbidden_system_headers", []) or [])
        declared = set(layer.get("modules", []))
        for dirpath, _, names in os.walk(root):
            for fn in sorted(names):
                if not fn.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, fn)
                files += 1
                with open(path, encoding="utf-8") as src:
                    for lineno, line in enumerate(src, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        kind, target = m.groups()
                        if kind == '"':
                            top = target.split("/")[0]
                            owner = next((n for n, d in layer_dirs.items() if d == top), None)
                            if owner is None:
                                problems.append(f"{path}:{lineno}: include \"{target}\" is not under a layer (use the layer-rooted path)")
                            elif owner not in allowed:
                                problems.append(f"{path}:{lineno}: layer '{name}' may not include '{target}' (layer '{owner}'); allowed: {sorted(allowed)}")
                        elif target in forbidden:
                            problems.append(f"{path}:{lineno}: layer '{name}' may not include <{target}> (I/O or clock belongs in infrastructure)")
                if fn.endswith(".c"):
                    module = os.path.relpath(path, root)[:-2]
                    if module not in declared:
                        problems.append(f"{path}: module '{module}' is not declared under layers.{name}.modules in {manifest}")
                    if name != "src" and not os.path.exists(f"test/test_{os.path.basename(module)}.c"):
                        problems.append(f"{path}: no unit test file test/test_{os.path.basename(module)}.c")
        for module in declared:
            if not os.path.exists(os.path.join(root, module + ".c")):
                problems.append(f"{manifest}: layers.{name}.modules lists '{module}' but {root}/{module}.c does not exist")
    for p in problems:
        print("layer check: " + p)
    if problems:
        print(f"layer check: FAILED, {len(problems)} problem(s) in {files} files")
        return 1
    print(f"layer check: ok, {files} files in {len(layers)} layers follow project.yml")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "project.yml"))
