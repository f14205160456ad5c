"""variants — every shape of graph variable the loader accepts, all in one file.

Each graph has one node "respond" and the state {"text": str, "reply": str}:

    input:   {"text": "world"}
    output:  {"text": "world", "reply": "<greeting> world (<variant>)"}

The greeting is "hello" unless a factory reads config["configurable"]["greeting"] (sync_factory,
async_factory) or the graph reads it from its context (context). The context-manager factories
reply "... (resource open)" while their `with` block is active and "... (resource closed)" after.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    text: str
    reply: str


def _builder(variant: str, greeting: str = "hello", resource: dict | None = None) -> StateGraph:
    def respond(state: State) -> State:
        label = variant
        if resource is not None:
            label += ", resource open" if resource["open"] else ", resource closed"
        return {"reply": f"{greeting} {state.get('text', '')} ({label})"}

    return StateGraph(State).add_node("respond", respond).add_edge(START, "respond")


def _greeting(config: RunnableConfig) -> str:
    return config["configurable"].get("greeting", "hello")


# an uncompiled StateGraph: the loader compiles it
builder = _builder("builder")


def make_graph(config: RunnableConfig) -> CompiledStateGraph:
    return _builder("sync_factory", _greeting(config)).compile()


def make_graph_no_args() -> CompiledStateGraph:
    return _builder("noarg_factory").compile()


async def amake_graph(config: RunnableConfig) -> CompiledStateGraph:
    await asyncio.sleep(0)  # stands in for real async set-up work
    return _builder("async_factory", _greeting(config)).compile()


@asynccontextmanager
async def graph_in_async_context(config: RunnableConfig) -> AsyncIterator[CompiledStateGraph]:
    resource = {"open": True}
    try:
        yield _builder("async_cm_factory", resource=resource).compile()
    finally:
        resource["open"] = False


@contextmanager
def graph_in_sync_context(config: RunnableConfig) -> Iterator[CompiledStateGraph]:
    resource = {"open": True}
    try:
        yield _builder("sync_cm_factory", resource=resource).compile()
    finally:
        resource["open"] = False


@dataclass
class Context:
    greeting: str = "hello"


def greet(state: State, runtime: Runtime[Context]) -> State:
    context = runtime.context or Context()
    return {"reply": f"{context.greeting} {state.get('text', '')} (context)"}


context_graph = (
    StateGraph(State, context_schema=Context)
    .add_node("respond", greet)
    .add_edge(START, "respond")
    .compile(name="Greeter")
)
