"""Loading `langgraph.json`, importing its graphs, and describing them (schemas, drawings)."""

from .config import ConfigError, LangGraphConfig, load_config
from .registry import GraphLoadError, GraphNotFoundError, GraphRegistry
from .schemas import drawable_graph, graph_schemas, subgraph_schemas

__all__ = [
    "ConfigError",
    "GraphLoadError",
    "GraphNotFoundError",
    "GraphRegistry",
    "LangGraphConfig",
    "drawable_graph",
    "graph_schemas",
    "load_config",
    "subgraph_schemas",
]
