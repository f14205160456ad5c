"""memory — long-term memory in the store, shared by every thread of the same user.

Each run saves `remember` (if given) under the namespace ("memories", <user_id>) and reads all of
that user's memories back into `memories`. The user comes from the run context / configurable
`user_id`, else "default".

    input:    {"remember": "I like tea"}
    context:  {"user_id": "alice"}          (or config={"configurable": {"user_id": "alice"}})
    output:   {"remember": "I like tea", "memories": ["I like tea", ...]}
"""

import uuid

from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore
from typing_extensions import TypedDict


class Context(TypedDict, total=False):
    user_id: str


class State(TypedDict, total=False):
    remember: str
    memories: list[str]


def _namespace(config: RunnableConfig, runtime: Runtime[Context]) -> tuple[str, str]:
    user_id = (runtime.context or {}).get("user_id") or config["configurable"].get("user_id")
    return ("memories", user_id or "default")


def _store(runtime: Runtime[Context]) -> BaseStore:
    if runtime.store is None:
        raise RuntimeError("the memory graph needs a store (compile it with store=...)")
    return runtime.store


async def save(state: State, config: RunnableConfig, runtime: Runtime[Context]) -> State:
    if text := state.get("remember"):
        # Key derived from the text: saving the same memory twice keeps one copy.
        key = str(uuid.uuid5(uuid.NAMESPACE_OID, text))
        await _store(runtime).aput(_namespace(config, runtime), key, {"text": text})
    return {}


async def recall(state: State, config: RunnableConfig, runtime: Runtime[Context]) -> State:
    items = await _store(runtime).asearch(_namespace(config, runtime), limit=100)
    items.sort(key=lambda item: item.created_at)
    return {"memories": [item.value["text"] for item in items]}


graph = (
    StateGraph(State, context_schema=Context)
    .add_node(save)
    .add_node(recall)
    .add_edge(START, "save")
    .add_edge("save", "recall")
    .compile()
)
