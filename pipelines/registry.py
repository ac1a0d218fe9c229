"""The pipelines registry: named specs (and studies: several specs' runs compared over one
setting), added by each family module with one `register` call.

Usage:
    register(PipelineSpec(name="my_pipeline", ...))
    get("mnist_convnet")
"""

from __future__ import annotations

from kdl.errors import ConfigError, unknown_name
from kdl.spec import PipelineSpec
from kdl.study import Study

_REGISTRY: dict[str, PipelineSpec | Study] = {}


def register(*specs: PipelineSpec | Study) -> None:
    """Add specs or studies to the registry; a name may be registered once."""
    for spec in specs:
        if spec.name in _REGISTRY:
            raise ConfigError(f"pipeline {spec.name!r} is already registered.")
        _REGISTRY[spec.name] = spec


def get(name: str) -> PipelineSpec | Study:
    """The spec or study registered as `name`; an unknown name lists the known ones and the
    closest."""
    if name not in _REGISTRY:
        raise unknown_name("pipeline", name, _REGISTRY)
    return _REGISTRY[name]


def names() -> list[str]:
    """Every registered pipeline name, sorted."""
    return sorted(_REGISTRY)


def get_spec(name: str, purpose: str) -> PipelineSpec:
    """The spec registered as `name`; a study is a clear error saying `purpose` needs one
    pipeline (e.g. "sweep")."""
    entry = get(name)
    if isinstance(entry, Study):
        raise ConfigError(f"{name!r} is a study (several pipelines' runs), and {purpose} takes "
                          f"one pipeline; run it with run({name!r}) or `kdl run {name}`.")
    return entry
