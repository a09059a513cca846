"""Summarise py-spy's collapsed stacks (`--format raw`): where the samples are, by function.

    python -m bench.profile bench/results/prof/stream-c64-switchboard-native.txt [--top 40] [--match switchboard]

Prints "self" time (the innermost frame) and "total" time (the function anywhere on the stack),
each as a share of all samples, so a hot path shows both where it is and what it calls.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def load(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks.append((frames.split(";"), int(count)))
    return stacks


def summarise(stacks: list[tuple[list[str], int]], match: str = "") -> tuple[int, Counter[str], Counter[str]]:
    total = sum(count for _, count in stacks)
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    for frames, count in stacks:
        wanted = [f for f in frames if match in f] if match else frames
        if wanted:
            own[wanted[-1]] += count
        for frame in set(frames):
            if not match or match in frame:
                anywhere[frame] += count
    return total, own, anywhere


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match", default="", help="only frames containing this (e.g. a package name)")
    args = parser.parse_args(argv)
    total, own, anywhere = summarise(load(args.file), args.match)
    print(f"{total} samples")
    for title, counter in (("self", own), ("total", anywhere)):
        print(f"\n-- {title} --")
        for frame, count in counter.most_common(args.top):
            print(f"{100 * count / max(total, 1):5.1f}%  {frame}")


if __name__ == "__main__":
    main()
