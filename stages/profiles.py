"""Profiles: one definition of every variant, dataset and setting, and small files that
say only what another profile changes.

``params.yaml`` is the default profile, complete, and what DVC reads. A profile under
``profiles/`` is an overlay: ``extends`` names the file it starts from (relative to the
profile), and the rest is merged into it key by key: a mapping merges into the mapping of
the same key, any other value (a number, a string, a list) replaces it, and ``null``
removes the key. So a variant defined once in ``params.yaml`` reaches every profile, with
just the settings a profile changes.

:func:`resolve_profile` returns the merged mapping; ``ganbench profile`` writes it over
``params.yaml`` for DVC, refusing to stack one profile on another.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from gan_core.config import ConfigError

DEFAULT_PROFILE = "default"
MERGE_TAG = "tag:yaml.org,2002:merge"


def read_mapping(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A YAML file's top-level mapping; a missing file, bad YAML, a duplicate key or any
    other top level is a :class:`ConfigError` naming the file."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(), Loader=_UniqueKeyLoader)  # noqa: S506 (safe loader)
    except FileNotFoundError:
        raise ConfigError(f"{path}: params file not found") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return raw


def merge_overlay(base: Any, overlay: Any) -> Any:
    """``overlay`` merged into ``base`` (neither is changed): mappings merge key by key,
    ``None`` removes a key, anything else replaces."""
    if not (isinstance(base, dict) and isinstance(overlay, dict)):
        return overlay
    merged = dict(base)
    for key, value in overlay.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_overlay(base.get(key), value)
    return merged


def resolve_profile(path: str | os.PathLike[str], _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The complete params of the profile at ``path``: its ``extends`` chain merged in
    order. A profile without ``extends`` is complete as it is."""
    path = Path(path)
    if path.resolve() in _seen:
        raise ConfigError(f"{path}: 'extends' loops back to a file already in the chain")
    raw = read_mapping(path)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ConfigError(f"{path}: extends: expected a file name, got {parent!r}")
    base = resolve_profile(path.parent / parent, (*_seen, path.resolve()))
    return merge_overlay(base, raw)


class _UniqueKeyLoader(yaml.SafeLoader):
    """The safe loader, refusing a key given twice in one mapping (PyYAML keeps the last
    silently, while DVC's parser refuses the file). A merge key (``<<: *anchor``) is not a
    key of its own: the keys it brings in yield to those the mapping gives, as in DVC."""

    def construct_mapping(self, node, deep=False):
        own = [key_node for key_node, _ in node.value if key_node.tag != MERGE_TAG]
        keys = [self.construct_object(key_node, deep=deep) for key_node in own]
        for key in keys:
            if keys.count(key) > 1:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}'", node.start_mark
                )
        return super().construct_mapping(node, deep=deep)
