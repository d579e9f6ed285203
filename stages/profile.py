"""``ganbench profile``: write a profile's complete params over ``params.yaml``, the file
DVC reads, so that ``dvc repro`` runs that profile. ``git checkout params.yaml`` returns
to the default profile. Profiles do not stack: the params file written over must hold the
default profile (or the same profile again)."""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from gan_core.config import ConfigError
from gan_core.io import atomic_path
from stages.params import load_params
from stages.profiles import DEFAULT_PROFILE, read_mapping, resolve_profile

PROFILES_DIR = Path("profiles")


class _PlainDumper(yaml.SafeDumper):
    """Writes a value every time it occurs: a setting that two variants share (through a
    merge key) reads in full in both, without YAML anchors."""

    def ignore_aliases(self, data):
        return True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="a profile under profiles/ (without .yaml), or its path")


def run(args: argparse.Namespace) -> None:
    source = Path(args.name)
    if source.suffix != ".yaml":
        source = PROFILES_DIR / f"{args.name}.yaml"
    target = Path(args.params)
    params = resolve_profile(source)
    name = params.get("profile")
    if name in (None, DEFAULT_PROFILE):
        raise ConfigError(f"{source}: profile: expected the profile's own name")
    current = read_mapping(target).get("profile")
    if current not in (DEFAULT_PROFILE, name):  # writing the same profile again is a no-op
        raise ConfigError(
            f"{target}: holds profile '{current}', not '{DEFAULT_PROFILE}'; profiles do not "
            f"stack: restore the default first (git checkout {target})"
        )
    with atomic_path(target) as tmp:
        tmp.write_text(
            f"# Written by `ganbench profile {args.name}` from {source}: the complete params\n"
            f"# of that profile. `git checkout {target}` restores the default profile.\n"
            + yaml.dump(params, Dumper=_PlainDumper, sort_keys=False, width=100)
        )
        load_params(tmp)  # a bad profile fails here, and params.yaml stays as it was
    print(f"{target}: profile {params['profile']} (from {source})")
