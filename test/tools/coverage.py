#!/usr/bin/env python3
"""coverage.py — line and branch coverage per layer from the unit tests alone
(`make cov`), with floors: domain/ and application/ >= 95 % of lines, infrastructure/
>= 85 %. Exit 1 when a layer is below its floor. Reads the .gcda/.gcno files that a
--coverage build of the unit tests left under OBJDIR, through Debian's gcovr."""
import json
import subprocess
import sys

FLOORS = {"domain": 95.0, "application": 95.0, "infrastructure": 85.0}


def layer_summary(objdir, layer):
    out = subprocess.run(
        ["gcovr", "-r", ".", "--object-directory", objdir, "-f", layer + "/",
         "--json-summary", "-"], check=True, capture_output=True, text=True).stdout
    s = json.loads(out)
    return s["line_percent"], s["line_covered"], s["line_total"], s["branch_percent"]


def main(objdir):
    failed = 0
    print(f"{'layer':16} {'lines':>8} {'branches':>9}  floor")
    for layer, floor in FLOORS.items():
        lp, lc, lt, bp = layer_summary(objdir, layer)
        ok = lp >= floor
        failed += not ok
        print(f"{layer:16} {lp:7.1f}% {bp:8.1f}%  {floor:.0f}% {'ok' if ok else 'BELOW FLOOR'}  ({lc}/{lt} lines)")
    print(f"coverage: {len(FLOORS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build-cov/obj"))
