#!/usr/bin/env python3
"""run_unit.py — run every cmocka test binary, show its output, and close with one
summary line 'unit: N passed, N failed' (the count of test cases, from cmocka's own
'[  PASSED  ]' / '[  FAILED  ]' lines). Exit 1 if any binary fails or crashes.

    run_unit.py BIN...                      plain run (make unit)
    run_unit.py --wrap "valgrind ..." BIN...  each binary under a wrapper (make valgrind)
"""
import re
import shlex
import subprocess
import sys

args = sys.argv[1:]
wrap = []
if args[:1] == ["--wrap"]:
    wrap, args = shlex.split(args[1]), args[2:]
passed = failed = 0
bad = []
for binary in args:
    proc = subprocess.run(wrap + [binary], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout
    sys.stdout.write(out)
    p = sum(int(n) for n in re.findall(r"\[  PASSED  \] (\d+) test", out))
    f = sum(int(n) for n in re.findall(r"\[  FAILED  \] (\d+) test", out))
    passed += p
    failed += f
    if proc.returncode != 0 or p == 0:
        bad.append(f"{binary} (exit {proc.returncode})")
        if f == 0:
            failed += 1
print()
for b in bad:
    print("unit: FAILED " + b)
print(f"unit: {passed} passed, {failed} failed")
sys.exit(1 if bad else 0)
