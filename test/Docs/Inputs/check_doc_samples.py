#!/usr/bin/env python3
"""Checks that every ```dsl sample of a Markdown file is real.

    check_doc_samples.py DOC.md ROOT...

A sample is real when its lines, each stripped of surrounding whitespace,
appear as consecutive lines of some .dsl or .test file under one of the
ROOTs (examples/ and test/, which the test suite compiles). Prints each
sample that is not found and exits with 1 if any; else prints the count.
"""
import os
import re
import sys


def stripped_lines(text):
    return [line.strip() for line in text.splitlines()]


def main():
    doc, roots = sys.argv[1], sys.argv[2:]
    samples = re.findall(r"^[ \t]*```dsl\n(.*?)^[ \t]*```", open(doc).read(),
                         re.S | re.M)
    files = []
    for root in roots:
        for folder, _, names in os.walk(root):
            for name in sorted(names):
                if name.endswith((".dsl", ".test")):
                    path = os.path.join(folder, name)
                    files.append((path, stripped_lines(open(path).read())))
    missing = 0
    for sample in samples:
        want = stripped_lines(sample)
        found = any(lines[i:i + len(want)] == want
                    for _, lines in files
                    for i in range(len(lines) - len(want) + 1))
        if not found:
            missing += 1
            print("not found in %s:\n%s" % (" ".join(roots), sample))
    if missing:
        print("%d of %d samples are not in any example or test" % (missing, len(samples)))
        sys.exit(1)
    print("all %d samples found" % len(samples))


if __name__ == "__main__":
    main()
