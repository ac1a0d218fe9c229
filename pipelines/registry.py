"""The pipelines registry: named specs, added by each family module with one `register` call.

Usage:
    register(PipelineSpec(name="my_pipeline", ...))
    get("mnist_convnet")
"""

from __future__ import annotations

from kdl.errors import ConfigError, unknown_name
from kdl.spec import PipelineSpec

_REGISTRY: dict[str, PipelineSpec] = {}


def register(*specs: PipelineSpec) -> None:
    """Add specs to the registry; a name may be registered once."""
    for spec in specs:
        if spec.name in _REGISTRY:
            raise ConfigError(f"pipeline {spec.name!r} is already registered.")
        _REGISTRY[spec.name] = spec


def get(name: str) -> PipelineSpec:
    """The spec registered as `name`; an unknown name lists the known ones and the closest."""
    if name not in _REGISTRY:
        raise unknown_name("pipeline", name, _REGISTRY)
    return _REGISTRY[name]


def names() -> list[str]:
    """Every registered pipeline name, sorted."""
    return sorted(_REGISTRY)
