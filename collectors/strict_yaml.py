"""Strict configuration files: YAML without duplicate keys, validated into pydantic models whose errors name
the file and the field (``tables[downstream].columns[x].scale``). Device profiles, health policies and
capacity rules are all read this way."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and field of each problem."""


class StrictModel(BaseModel):
    """Base of configuration models: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML would silently keep the last one)."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def read_yaml(path: Path, error: type[ConfigError] = ConfigError) -> dict[str, Any]:
    """Parse a YAML file into a mapping, raising ``error`` (default :class:`ConfigError`) naming the file."""
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=_StrictLoader)  # a SafeLoader subclass
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise error(f"{path}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise error(f"{path}: expected a mapping at the top level")
    return data


M = TypeVar("M", bound=BaseModel)


def validate_model(model: type[M], data: Mapping[str, Any], path: Path,
                   error: type[ConfigError] = ConfigError) -> M:
    """Validate ``data`` as ``model``; errors become one ``error`` line per problem, each naming
    the file and the field path (list items by their ``name``, e.g. ``tables[downstream].columns[x].scale``).
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{path}: {_where(data, err['loc'])}: {msg}")
        raise error("\n".join(lines)) from None


def _where(data: Any, loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int) and isinstance(node, list) and 0 <= key < len(node):
            node = node[key]
            label = node.get("name") if isinstance(node, dict) else None
            item = f"[{label if isinstance(label, str) else key}]"
            if parts:
                parts[-1] += item
            else:
                parts.append(item)
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts) or "(top level)"
