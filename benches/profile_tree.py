#!/usr/bin/env python3
"""Where the samples under one function go: reads `perf script` output (a profile
recorded with call graphs, `perf record -g`, of a binary built with frame pointers)
and prints the share of all samples whose stack holds FRAME, then how those samples
divide among the frames DEPTH levels below it (the outermost FRAME of each stack).

    RUSTFLAGS="-C force-frame-pointers=yes" CARGO_TARGET_DIR=/tmp/target-fp \
        cargo build --release -p reperage
    perf record -F 299 -g -o /tmp/fp.data /tmp/target-fp/release/reperage screen ...
    perf script -i /tmp/fp.data > /tmp/fp.txt
    python3 benches/profile_tree.py push_group 1 < /tmp/fp.txt

docs/performance.md reads its figures. Samples of Polars' thread pool carry no frame of
the caller that queued the work: count them by a Polars frame (`JoinExec`, ...).
"""
import collections
import re
import sys


def frame_name(line):
    name = line.strip().split(" ", 1)[-1]
    name = re.sub(r"\+0x[0-9a-f]+ \(.*\)$", "", name)
    return re.sub(r" \(.*\)$", "", name)


def stacks(lines):
    stack = []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if stack:
                yield stack
            stack = []
        elif line[0] in "\t ":
            stack.append(frame_name(line))
        else:
            stack = []
    if stack:
        yield stack


def main():
    pattern = sys.argv[1]
    depth = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    below = collections.Counter()
    total = held = 0
    for stack in stacks(sys.stdin):  # leaf first
        total += 1
        at = [i for i, name in enumerate(stack) if pattern in name]
        if not at:
            continue
        held += 1
        i = max(at)
        below[" <- ".join(stack[max(0, i - depth):i][::-1]) or "(self)"] += 1
    if total == 0:
        sys.exit("no samples read")
    print(f"{pattern}: {held} of {total} samples ({100 * held / total:.1f} %)")
    for name, n in below.most_common(25):
        print(f"{100 * n / total:5.1f} %  {name[:160]}")


if __name__ == "__main__":
    main()
