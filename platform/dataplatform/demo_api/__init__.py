"""The bundled demo source API: a deterministic, fault-injectable music-streaming REST API."""

from dataplatform.demo_api.app import create_app
from dataplatform.demo_api.config import DemoApiConfig, FaultConfig
from dataplatform.demo_api.ground_truth import true_entity_ids
from dataplatform.demo_api.server import DemoApiServer

__all__ = ["DemoApiConfig", "DemoApiServer", "FaultConfig", "create_app", "true_entity_ids"]
