"""The bundled demo source API: a deterministic, fault-injectable music-streaming REST API."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dataplatform.demo_api.app import create_app
    from dataplatform.demo_api.config import DemoApiConfig, FaultConfig
    from dataplatform.demo_api.ground_truth import true_entity_ids
    from dataplatform.demo_api.server import DemoApiServer

__all__ = ["DemoApiConfig", "DemoApiServer", "FaultConfig", "create_app", "true_entity_ids"]

# Loaded on first use: the code location imports `demo_api.endpoints` (the endpoint registry)
# in every step process, and has no use for FastAPI and uvicorn there.
_MODULES = {
    "create_app": "app",
    "DemoApiConfig": "config",
    "FaultConfig": "config",
    "true_entity_ids": "ground_truth",
    "DemoApiServer": "server",
}


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_MODULES[name]}"), name)
