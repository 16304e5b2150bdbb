#!/usr/bin/env python3
"""check_docs.py — keep docs/ honest about the code (run by `make test`).

Scans README.md and docs/**/*.md for references to the source tree and checks each:

  * `path/file.c` or `path/file.h` in an inline code span: the file exists
    (path relative to the repository root);
  * `path/file.c:name` (optionally `name()`): the file exists AND defines `name`:
      - a C function definition: at the start of a line, `type ... name(` whose
        parameter list is followed by `{` (a prototype ending in `;` only counts in a .h);
      - a macro: `#define name`;
      - a type or tag: `typedef ... name;`, `} name;`, `struct|enum|union name {`;
      - a file-scope variable or table: `... name[] =` / `... name =` at line start;
    comments are stripped first, so a name mentioned in a comment does not count;
  * `path/file.c:123`: the file has at least that many lines;
  * inside fenced code blocks (diagrams, gdb sessions) the same `dir/file.c:name` forms are
    checked when `dir` is a top-level directory of the repository (shell output that
    mentions other paths is left alone);
  * relative Markdown links [text](target): the target file or directory exists, relative
    to the Markdown file; a `#fragment` on a .md target must name one of its headings
    (GitHub's anchor rule: lower case, spaces to '-', punctuation dropped).

Exit status 0 and "docs check: ok, N references in M files", or 1 with one line per
broken reference ("docs check: FILE:LINE: REF: why") and a summary line.

Usage: check_docs.py [REPO_ROOT]   (default: the repository this script lives in)
"""
import os
import re
import sys

SRC_REF = re.compile(r"(?<![\w./-])((?:[\w.-]+/)+[\w.-]+\.[ch])(?::(\w+)(?:\(\))?)?(?![\w/])")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
LINK = re.compile(r"(?<!!)\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def strip_c_comments(text):
    """Blank out /* */ and // comments and string literals, keeping line breaks."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * max(0, j - i - 2) + (c if j - i >= 2 else ""))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _after_params(code, open_paren):
    """The first ';' or '{' after the balanced parameter list starting at open_paren."""
    depth = 0
    for k in range(open_paren, len(code)):
        ch = code[k]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                m = re.compile(r"[;{]").search(code, k)
                return m.group(0) if m else None
    return None


_defs_cache = {}


def defines(path, name):
    """Does the C file at `path` define (or, for a header, declare) `name`?"""
    key = (path, name)
    if key in _defs_cache:
        return _defs_cache[key]
    with open(path, encoding="utf-8", errors="replace") as f:
        code = strip_c_comments(f.read())
    header = path.endswith(".h")
    n = re.escape(name)
    found = False
    for m in re.finditer(r"^\w[\w \t\*]*?\b" + n + r"\s*\(", code, re.M):
        line = code[m.start():code.find("\n", m.start())]
        if re.match(r"\s*(return|if|while|for|switch|else|do)\b", line):
            continue
        end = _after_params(code, m.end() - 1)
        if end == "{" or (header and end == ";"):
            found = True
            break
    patterns = [
        r"^\s*#\s*define\s+" + n + r"\b",                          # macro
        r"^\s*typedef\b[^;]*?\b" + n + r"\s*;",                    # typedef ... name;
        r"^\s*typedef\b[^;]*?\(\s*\*\s*" + n + r"\s*\)",           # function-pointer typedef
        r"^\}\s*" + n + r"\s*(?:\[[^\]]*\]\s*)*[;=]",                # } name; / } table[] =
        r"\b(?:struct|enum|union)\s+" + n + r"\s*\{",              # tag definition
        r"^(?:static\s+)?(?:const\s+)?\w[\w \t\*]*?\b" + n + r"\s*(?:\[[^\]]*\]\s*)*=",  # variable
        r"^\s*" + n + r"\s*(?:=[^,\n]*)?,",                       # enum constant
    ]
    if not found:
        found = any(re.search(p, code, re.M) for p in patterns)
    _defs_cache[key] = found
    return found


def slugify(heading):
    """GitHub's heading anchor: lower case, drop punctuation, spaces to hyphens."""
    s = re.sub(r"`", "", heading.strip()).lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def md_anchors(path):
    anchors, seen, in_fence = set(), {}, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if FENCE.match(line):
                in_fence = not in_fence
                continue
            m = None if in_fence else re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m:
                base = slugify(m.group(1))
                k = seen.get(base, 0)
                anchors.add(base if k == 0 else f"{base}-{k}")
                seen[base] = k + 1
    return anchors


def check_src_ref(root, ref_path, name):
    """None when fine, else the reason."""
    full = os.path.join(root, ref_path)
    if not os.path.isfile(full):
        return "no such file"
    if name is None:
        return None
    if name.isdigit():
        with open(full, encoding="utf-8", errors="replace") as f:
            lines = sum(1 for _ in f)
        return None if int(name) <= lines else f"{ref_path} has only {lines} lines"
    return None if defines(full, name) else f"'{name}' is not defined in {ref_path}"


def check_link(root, md_path, target):
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("//"):
        return None                                         # http:, mailto: …: not ours
    path, _, frag = target.partition("#")
    here = os.path.dirname(md_path)
    dest = md_path if path == "" else os.path.normpath(os.path.join(here, path))
    if not os.path.exists(dest):
        return "link target does not exist"
    if not os.path.abspath(dest).startswith(os.path.abspath(root) + os.sep):
        return "link leaves the repository"
    if frag and dest.endswith(".md") and os.path.isfile(dest):
        if frag.lower() not in md_anchors(dest):
            return f"no heading '#{frag}' in {os.path.relpath(dest, root)}"
    return None


def md_files(root):
    files = []
    readme = os.path.join(root, "README.md")
    if os.path.isfile(readme):
        files.append(readme)
    for dirpath, dirnames, names in os.walk(os.path.join(root, "docs")):
        dirnames.sort()
        files.extend(os.path.join(dirpath, n) for n in sorted(names) if n.endswith(".md"))
    return files


def scan(root, md_path, top_dirs):
    """Yield (line number, reference text, problem or None) for one Markdown file."""
    in_fence = False
    with open(md_path, encoding="utf-8") as f:
        lines = f.readlines()
    for lineno, line in enumerate(lines, 1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            for m in SRC_REF.finditer(line):
                if m.group(1).split("/")[0] in top_dirs:
                    yield lineno, m.group(0), check_src_ref(root, m.group(1), m.group(2))
            continue
        for span in CODE_SPAN.finditer(line):
            for m in SRC_REF.finditer(span.group(2)):
                yield lineno, m.group(0), check_src_ref(root, m.group(1), m.group(2))
        no_code = CODE_SPAN.sub(lambda s: " " * len(s.group(0)), line)
        for m in LINK.finditer(no_code):
            yield lineno, m.group(1), check_link(root, md_path, m.group(1))


def main(root):
    root = os.path.abspath(root)
    top_dirs = {d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))
                and not d.startswith(".")}
    files = md_files(root)
    refs, problems = 0, []
    for md in files:
        for lineno, ref, why in scan(root, md, top_dirs):
            refs += 1
            if why is not None:
                problems.append(f"docs check: {os.path.relpath(md, root)}:{lineno}: {ref}: {why}")
    for p in problems:
        print(p)
    if problems:
        print(f"docs check: FAILED, {len(problems)} broken of {refs} references in {len(files)} files")
        return 1
    print(f"docs check: ok, {refs} references in {len(files)} files")
    return 0


if __name__ == "__main__":
    default_root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else default_root))
