"""failing — the second node raises ValueError("boom") (run error status and error events).

A checkpoint exists before the failure, so the thread keeps the first node's output:

    input:  {"value": "anything"}
    result: "prepare" succeeds and is checkpointed, then "explode" raises ValueError("boom")
"""

from langgraph.graph import START, StateGraph
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    value: str
    prepared: bool


def prepare(state: State) -> State:
    return {"prepared": True}


def explode(state: State) -> State:
    raise ValueError("boom")


graph = (
    StateGraph(State)
    .add_node(prepare)
    .add_node(explode)
    .add_edge(START, "prepare")
    .add_edge("prepare", "explode")
    .compile()
)
