#!/usr/bin/env python3
"""labs.py — the classroom labs of docs/labs/: blank out a reference implementation,
check a student's work, put the reference back, and verify that every lab still works.

Each lab is a folder docs/labs/NN-name/ holding README.md and lab.json:

    {
      "id": "01",
      "title": "...",
      "layer": "domain",
      "files": [ {"path": "domain/retention.c",
                  "stubs": [ ["line", "line", ...], ... ] } ],   one stub per marked region
      "tests": ["test_retention"]                                 test/<name>.c binaries
    }

In each listed file the student's part lies between the lines

    /* LAB NN BEGIN: <one-line task> */
    ...reference code...
    /* LAB NN END */

(region k of the file gets stub k; a stub is a list of lines or one string). The marker
lines themselves always stay. Any number of labs, files and regions: a new lab is a new
folder with markers in its files, nothing here changes.

    labs.py list             the labs and whether each is started
    labs.py start NN         replace every marked region with its stub; the reference
                             files are saved under build/labs/NN/ (refused if started)
    labs.py check NN         make build/test/<t> for each acceptance test, run them
    labs.py reset NN         put the reference back into the marked regions (from
                             build/labs/NN/, else from `git show HEAD:<path>`)
    labs.py verify           for every lab, in a scratch copy of the tree: the stub
                             compiles and its tests FAIL; the reference passes them.
                             Prints "labs: N passed, N failed"; exit 1 if any is broken.

Exit status 0 on success, 1 on failure, 2 on a usage error.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LABS_DIR = os.path.join(ROOT, "docs", "labs")
STATE_DIR = os.path.join(ROOT, "build", "labs")
COPY_FOR_VERIFY = ["domain", "application", "infrastructure", "src", "test",
                   "Makefile", "project.yml"]
MAKE_TIMEOUT = 600
TEST_TIMEOUT = 120


class LabError(Exception):
    pass


# ---- lab descriptions -----------------------------------------------------------------

def load_labs():
    labs = {}
    for path in sorted(glob.glob(os.path.join(LABS_DIR, "*", "lab.json"))):
        with open(path, encoding="utf-8") as f:
            lab = json.load(f)
        lab["dir"] = os.path.dirname(path)
        for key in ("id", "files", "tests"):
            if key not in lab:
                raise LabError(f"{path}: missing '{key}'")
        labs[lab["id"]] = lab
    return labs


def find_lab(labs, lab_id):
    if lab_id is None:
        raise LabError("which lab? give its number, e.g. LAB=01 (labs: "
                       + ", ".join(sorted(labs)) + ")")
    lab_id = lab_id.zfill(2)
    if lab_id not in labs:
        raise LabError(f"no lab {lab_id} (labs: {', '.join(sorted(labs))})")
    return labs[lab_id]


def stub_lines(stub):
    lines = stub.split("\n") if isinstance(stub, str) else list(stub)
    return [line + "\n" for line in lines]


# ---- marked regions -------------------------------------------------------------------

def regions(lines, lab_id):
    """[(begin, end)] line indices of the marker lines of lab `lab_id`, in order."""
    begin_re = re.compile(r"^\s*/\* LAB " + re.escape(lab_id) + r" BEGIN:.*\*/\s*$")
    end_re = re.compile(r"^\s*/\* LAB " + re.escape(lab_id) + r" END \*/\s*$")
    out, open_at = [], None
    for i, line in enumerate(lines):
        if begin_re.match(line):
            if open_at is not None:
                raise LabError(f"LAB {lab_id} BEGIN at line {i + 1} inside another region")
            open_at = i
        elif end_re.match(line):
            if open_at is None:
                raise LabError(f"LAB {lab_id} END at line {i + 1} without a BEGIN")
            out.append((open_at, i))
            open_at = None
    if open_at is not None:
        raise LabError(f"LAB {lab_id} BEGIN at line {open_at + 1} is never closed")
    return out


def replace_regions(lines, lab_id, bodies, path):
    """`lines` with the inside of each region replaced by the matching body."""
    found = regions(lines, lab_id)
    if len(found) != len(bodies):
        raise LabError(f"{path}: {len(found)} LAB {lab_id} regions, lab.json has "
                       f"{len(bodies)} stubs")
    out, pos = [], 0
    for (b, e), body in zip(found, bodies):
        out += lines[pos:b + 1] + body
        pos = e
    return out + lines[pos:]


def region_bodies(lines, lab_id):
    return [lines[b + 1:e] for b, e in regions(lines, lab_id)]


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return f.readlines()


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(lines)


# ---- start / reset --------------------------------------------------------------------

def state_dir(lab, root=ROOT):
    return os.path.join(root, "build", "labs", lab["id"])


def is_started(lab, root=ROOT):
    return os.path.exists(os.path.join(state_dir(lab, root), ".started"))


def apply_stubs(lab, root):
    """Write the stubbed version of every lab file under `root`."""
    for entry in lab["files"]:
        path = os.path.join(root, entry["path"])
        bodies = [stub_lines(s) for s in entry["stubs"]]
        write_lines(path, replace_regions(read_lines(path), lab["id"], bodies, entry["path"]))


def cmd_start(lab):
    if is_started(lab):
        raise LabError(f"lab {lab['id']} is already started (`make lab-reset LAB={lab['id']}` "
                       "first to start over)")
    saved = state_dir(lab)
    # check every file before touching any of them; a file whose regions already hold
    # the stubs (build/ removed while started) must not be saved as the reference
    for entry in lab["files"]:
        lines = read_lines(os.path.join(ROOT, entry["path"]))
        stubs = [stub_lines(s) for s in entry["stubs"]]
        replace_regions(lines, lab["id"], stubs, entry["path"])
        if region_bodies(lines, lab["id"]) == stubs:
            raise LabError(f"{entry['path']} already holds the lab {lab['id']} stub "
                           f"(`make lab-reset LAB={lab['id']}` restores it from git)")
    for entry in lab["files"]:
        dst = os.path.join(saved, entry["path"])
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, entry["path"]), dst)
    apply_stubs(lab, ROOT)
    with open(os.path.join(saved, ".started"), "w", encoding="utf-8") as f:
        f.write("started\n")
    print(f"lab {lab['id']} started: write your code between the LAB {lab['id']} markers in")
    for entry in lab["files"]:
        print(f"  {entry['path']}")
    print(f"reference saved in build/labs/{lab['id']}/; check with `make lab-check "
          f"LAB={lab['id']}`")
    return 0


def reference_lines(lab, path, root=ROOT):
    """The reference version of a lab file: the saved copy, else the file itself when
    the lab is not started, else git's HEAD."""
    saved = os.path.join(state_dir(lab, root), path)
    if os.path.exists(saved):
        return read_lines(saved)
    if not is_started(lab, root):
        return read_lines(os.path.join(root, path))
    proc = subprocess.run(["git", "show", f"HEAD:{path}"], cwd=ROOT, capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise LabError(f"{path}: no saved reference and not in git HEAD")
    return proc.stdout.splitlines(keepends=True)


def cmd_reset(lab):
    for entry in lab["files"]:
        path = os.path.join(ROOT, entry["path"])
        saved = os.path.join(state_dir(lab), entry["path"])
        if os.path.exists(saved):
            ref = read_lines(saved)
            origin = f"build/labs/{lab['id']}/{entry['path']}"
        else:
            proc = subprocess.run(["git", "show", f"HEAD:{entry['path']}"], cwd=ROOT,
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                raise LabError(f"{entry['path']}: no saved reference and not in git HEAD")
            ref = proc.stdout.splitlines(keepends=True)
            origin = "git HEAD"
        try:    # keep the student's edits outside the regions
            new = replace_regions(read_lines(path), lab["id"],
                                  region_bodies(ref, lab["id"]), entry["path"])
        except LabError:    # markers damaged: the whole file
            new = ref
        write_lines(path, new)
        print(f"reset {entry['path']} from {origin}")
    shutil.rmtree(state_dir(lab), ignore_errors=True)
    print(f"lab {lab['id']} reset")
    return 0


# ---- check ----------------------------------------------------------------------------

def build_tests(lab, root, quiet):
    targets = [f"build/test/{t}" for t in lab["tests"]]
    proc = subprocess.run(["make", "--no-print-directory", "-j2"] + targets, cwd=root,
                          capture_output=True, text=True, timeout=MAKE_TIMEOUT)
    if proc.returncode != 0 and not quiet:
        sys.stdout.write(proc.stdout[-4000:] + proc.stderr[-4000:])
    return proc.returncode == 0, proc.stdout + proc.stderr


def run_tests(lab, root, quiet):
    """(passed, failed) test-case counts over every acceptance binary; a crash or an
    unreadable run counts as a failure."""
    passed = failed = 0
    for t in lab["tests"]:
        try:
            proc = subprocess.run([os.path.join(root, "build", "test", t)], cwd=root,
                                  capture_output=True, text=True, timeout=TEST_TIMEOUT)
            out, code = proc.stdout + proc.stderr, proc.returncode
        except subprocess.TimeoutExpired:
            out, code = "", -1
        p = sum(int(n) for n in re.findall(r"\[  PASSED  \] (\d+) test", out))
        f = sum(int(n) for n in re.findall(r"\[  FAILED  \] (\d+) test", out))
        if code != 0 and f == 0:
            f = 1
        if not quiet:
            sys.stdout.write(out)
            print(f"{t}: {p} passed, {f} failed" + (f" (exit {code})" if code else ""))
        passed, failed = passed + p, failed + f
    return passed, failed


def cmd_check(lab):
    ok, _ = build_tests(lab, ROOT, quiet=False)
    if not ok:
        print(f"lab {lab['id']}: FAIL (does not build)")
        return 1
    passed, failed = run_tests(lab, ROOT, quiet=False)
    good = failed == 0 and passed > 0
    print(f"lab {lab['id']}: {'PASS' if good else 'FAIL'} ({passed} passed, {failed} failed)")
    return 0 if good else 1


# ---- verify ---------------------------------------------------------------------------

def verify_lab(lab, root):
    """None when the lab works in the scratch tree `root`, else why not."""
    refs = {e["path"]: reference_lines(lab, e["path"]) for e in lab["files"]}
    for path, lines in refs.items():
        write_lines(os.path.join(root, path), lines)
    apply_stubs(lab, root)
    ok, log = build_tests(lab, root, quiet=True)
    if not ok:
        return "the stub does not compile:\n" + log[-2000:]
    passed, failed = run_tests(lab, root, quiet=True)
    if failed == 0:
        return f"the stub passes the acceptance tests ({passed} passed)"
    for path, lines in refs.items():
        write_lines(os.path.join(root, path), lines)
    ok, log = build_tests(lab, root, quiet=True)
    if not ok:
        return "the reference does not compile:\n" + log[-2000:]
    passed, failed = run_tests(lab, root, quiet=True)
    if failed or not passed:
        return f"the reference fails its tests ({passed} passed, {failed} failed)"
    return None


def cmd_verify(labs):
    good = bad = 0
    with tempfile.TemporaryDirectory(prefix="klamm-labs-") as tmp:
        for name in COPY_FOR_VERIFY:
            src = os.path.join(ROOT, name)
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(tmp, name), symlinks=True)
            elif os.path.exists(src):
                shutil.copy2(src, os.path.join(tmp, name))
        for lab_id in sorted(labs):
            lab = labs[lab_id]
            try:
                why = verify_lab(lab, tmp)
            except (LabError, OSError, subprocess.TimeoutExpired) as e:
                why = str(e)
            if why is None:
                good += 1
                print(f"labs: {lab_id} ok (stub fails, reference passes)")
            else:
                bad += 1
                print(f"labs: {lab_id} BROKEN: {why}")
    print(f"labs: {good} passed, {bad} failed")
    return 1 if bad else 0


def cmd_list(labs):
    for lab_id in sorted(labs):
        lab = labs[lab_id]
        state = "started" if is_started(lab) else "reference"
        print(f"{lab_id}  {lab.get('layer', '?'):<14} {state:<9}  {lab.get('title', '')}")
    return 0


def main(argv):
    if not argv or argv[0] not in ("start", "check", "reset", "verify", "list"):
        sys.stderr.write(__doc__)
        return 2
    try:
        labs = load_labs()
        if argv[0] == "verify":
            return cmd_verify(labs)
        if argv[0] == "list":
            return cmd_list(labs)
        lab = find_lab(labs, argv[1] if len(argv) > 1 and argv[1] else None)
        return {"start": cmd_start, "check": cmd_check, "reset": cmd_reset}[argv[0]](lab)
    except LabError as e:
        print(f"labs: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
