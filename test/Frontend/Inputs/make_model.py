#!/usr/bin/env python3
"""Writes model files that test resnetc's limits to stdout.

    make_model.py KIND N

Every model is valid except for the size or depth the KIND names, so the
only error resnetc can report is the limit. Line 4 of each holds the thing
being tested (line 5 for index-chain).
"""
import sys

HEAD = "model m {\n  input image[3, 8, 8]\n  classes 10\n"
TAIL = "  return global_avg_pool(x) |> dense(classes)\n}\n"


def model(body):
    return HEAD + body + TAIL


def make(kind, n):
    if kind == "nested-if":          # n nested `if true { ... }` bodies
        return model("  x = image\n" + "  if true {\n" * n + "  x = relu(x)\n"
                     + "  }\n" * n)
    if kind == "nested-parens":      # relu((((image))))
        return model("  x = relu(" + "(" * n + "image" + ")" * n + ")\n")
    if kind == "nested-lists":       # [[[[1]]]]
        return model("  l = " + "[" * n + "1" + "]" * n + "\n  x = image\n")
    if kind == "not-chain":          # not not not ... true
        return model("  b = " + "not " * n + "true\n  x = image\n")
    if kind == "add-chain":          # 1 + 1 + ... + 1
        return model("  k = " + " + ".join(["1"] * (n + 1)) + "\n  x = image\n")
    if kind == "pipe-chain":         # image |> relu |> relu ...
        return model("  x = image" + " |> relu" * n + "\n")
    if kind == "index-chain":        # l[0][0][0]...
        return model("  x = image\n  l = [1]\n  k = l" + "[0]" * n + "\n")
    if kind == "repeat":             # a loop of n iterations that builds nothing
        return model("  x = image\n  k = 0\n  repeat " + str(n) +
                     " {\n    k = k + 1\n  }\n")
    if kind == "layers":             # n relu layers
        return model("  x = image\n  repeat " + str(n) + " {\n    x = relu(x)\n  }\n")
    if kind == "conv-layers":        # n conv + bn pairs: 2n layers, 5n variables
        return model("  x = image\n  repeat " + str(n) +
                     " {\n    x = conv(x, 3, 1) |> bn\n  }\n")
    if kind == "range":              # range(n)
        return model("  x = image\n  r = range(" + str(n) + ")\n")
    if kind == "block-chain":        # b0 calls b1 calls ... b(n-1)
        blocks = "".join("  block b%d(x) {\n    return %s\n  }\n"
                         % (i, "b%d(x)" % (i + 1) if i + 1 < n else "relu(x)")
                         for i in range(n))
        return HEAD + blocks + "  x = b0(image)\n" + TAIL
    if kind == "big":                # a valid model padded with comments to n bytes
        text = model("  x = image\n")
        line = "# " + "padding " * 12 + "\n"
        return text + line * ((n - len(text)) // len(line) + 1)
    raise SystemExit("unknown kind " + kind)


if __name__ == "__main__":
    sys.stdout.write(make(sys.argv[1], int(sys.argv[2])))
