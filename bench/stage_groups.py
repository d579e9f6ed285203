"""Wall time of a finished repro per stage group (train_toy, train_images, evaluate, report,
...), each as a share of the whole, read from the repository.

    python bench/stage_groups.py [REPO]

A repro by ``ganbench launch`` (what ``make repro`` runs in a committed tree) records each
stage's seconds and its wall time in ``.dvc/tmp/launch.json``: its stages ran several at
once, so the groups' stage time is compared with the wall time to show how busy the slots
were. Without that record the outputs of a serial ``dvc repro`` are read: stages run one
after another, so a stage took the time between the moment its last output was written and
the moment the stage before it finished. The first stage has no predecessor and is left
out (it is ``prepare``, restored from the cache or seconds long). Outputs restored from
DVC's cache instead of being recomputed count as near zero.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import yaml

from gan_core.io import read_json
from stages.launch import RECORD


def _finished(root: Path, outs: list[dict]) -> float | None:
    """The latest modification time of a stage's outputs; None if any is missing."""
    latest = 0.0
    for out in outs:
        path = root / out["path"]
        if not path.exists():
            return None
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        latest = max([latest, *(p.stat().st_mtime for p in files)])
    return latest


def stage_times(root: Path) -> dict[str, float] | None:
    """Seconds per stage of the repro that wrote ``root``'s outputs, by dvc.lock; None
    unless every stage's outputs are there (a clone holds only the committed ones)."""
    lock = yaml.safe_load((root / "dvc.lock").read_text())["stages"]
    ends = [(_finished(root, stage.get("outs", [])), name) for name, stage in lock.items()]
    if any(end is None for end, _ in ends):
        return None
    ends.sort()
    return {name: end - before for (before, _), (end, name) in zip(ends, ends[1:], strict=False)}


def _print_groups(times: dict[str, float]) -> float:
    """Each stage group's minutes and share of ``times``'s sum; returns the sum."""
    groups: dict[str, list[float]] = defaultdict(list)
    for name, seconds in times.items():
        groups[name.split("@")[0]].append(seconds)
    total = sum(times.values())
    for group, seconds in sorted(groups.items(), key=lambda item: -sum(item[1])):
        print(
            f"stage group {group}: {len(seconds)} stages, {sum(seconds) / 60:.1f} min, "
            f"{sum(seconds) / total:.0%} of {total / 60:.1f} min",
            flush=True,
        )
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", nargs="?", default=".", type=Path)
    args = parser.parse_args()
    record = args.repo / RECORD
    if record.exists():
        launch = read_json(record)
        print(f"stage groups of the launch of commit {launch['commit'][:10]} "
              f"({launch['executor']}, {launch['jobs']} at once), stage time:")  # fmt: skip
        total = _print_groups({n: s["seconds"] for n, s in launch["stages"].items()})
        wall = launch["stages_seconds"]
        print(
            f"launch: {total / 60:.1f} min of stage time in {wall / 60:.1f} min wall "
            f"({total / wall:.2f} stages at once on average, of {launch['jobs']}); then "
            f"{launch['here_seconds'] / 60:.1f} min here (restoring, the report): "
            f"{(wall + launch['here_seconds']) / 60:.1f} min in all",
            flush=True,
        )
        return
    if not (args.repo / "dvc.lock").exists():
        raise SystemExit(f"{args.repo / 'dvc.lock'}: no finished repro to read")
    times = stage_times(args.repo)
    if times is None:
        print(f"stage groups: {args.repo / 'dvc.lock'}'s outputs are not all here (run dvc repro)")
        return
    _print_groups(times)


if __name__ == "__main__":
    main()
