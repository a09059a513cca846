"""Summarise py-spy's collapsed stacks (`--format raw`): where the samples are, by function.

    python -m bench.profile bench/results/prof/stream-c64-switchboard-native.txt [--top 40] [--match switchboard]

Prints "self" time (the innermost frame) and "total" time (the function anywhere on the stack),
each as a share of all samples, so a hot path shows both where it is and what it calls. `--layers`
instead sums self time by the layer the innermost frame's file belongs to (an installed package,
a subpackage of switchboard, or a standard library module): how a request's CPU splits between
the HTTP server, the web framework, the upstream client, storage and our own code.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FILE = re.compile(r"\(([^()]*?):\d+\)$")  # py-spy's frame: "function (path/to/file.py:123)"


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


def layer(frame: str) -> str:
    """The layer a frame's file belongs to: `aiohttp`, `switchboard/adapters/storage`, `asyncio`."""
    found = _FILE.search(frame)
    path = found.group(1) if found else frame
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "switchboard/" in path:
        return "/".join(path.split("switchboard/", 1)[1].split("/")[:-1][:2]).join(("switchboard/", ""))
    if "/lib/python" in path:
        return path.rsplit("/lib/python", 1)[1].split("/")[1].removesuffix(".py")
    return path.split("/", 1)[0].removesuffix(".py")  # py-spy shortens most paths to the package's


def layers(stacks: list[tuple[list[str], int]]) -> Counter[str]:
    own: Counter[str] = Counter()
    for frames, count in stacks:
        own[layer(frames[-1])] += count
    return own


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match", default="", help="only frames containing this (e.g. a package name)")
    parser.add_argument("--layers", action="store_true", help="self time summed by package / subpackage")
    args = parser.parse_args(argv)
    if args.layers:
        by_layer = layers(load(args.file))
        total = sum(by_layer.values())
        print(f"{total} samples")
        for name, count in by_layer.most_common(args.top):
            print(f"{100 * count / max(total, 1):5.1f}%  {name}")
        return
    total, own, anywhere = summarise(load(args.file), args.match)
    print(f"{total} samples")
    for title, counter in (("self", own), ("total", anywhere)):
        print(f"\n-- {title} --")
        for frame, count in counter.most_common(args.top):
            print(f"{100 * count / max(total, 1):5.1f}%  {frame}")


if __name__ == "__main__":
    main()
