"""subgraph — a parent graph with a compiled graph as one of its nodes.

Stream with `stream_subgraphs=True` to see the child's events under the namespace
"child:<task id>"; `GET /assistants/{id}/subgraphs` lists it as "child".

    input:   {"text": "  hello world "}
    output:  {"text": "HELLO WORLD!", "words": 2}
"""

from langgraph.graph import START, StateGraph
from typing_extensions import TypedDict


class ChildState(TypedDict):
    text: str


class State(TypedDict, total=False):
    text: str
    words: int


def shout(state: ChildState) -> ChildState:
    return {"text": state["text"].upper()}


def exclaim(state: ChildState) -> ChildState:
    return {"text": state["text"] + "!"}


# The child shares only `text` with the parent, so that is all it reads and writes back.
child = (
    StateGraph(ChildState)
    .add_node(shout)
    .add_node(exclaim)
    .add_edge(START, "shout")
    .add_edge("shout", "exclaim")
    .compile()
)


def prepare(state: State) -> State:
    return {"text": (state.get("text") or "").strip()}


def count_words(state: State) -> State:
    return {"words": len(state["text"].split())}


graph = (
    StateGraph(State)
    .add_node(prepare)
    .add_node("child", child)
    .add_node(count_words)
    .add_edge(START, "prepare")
    .add_edge("prepare", "child")
    .add_edge("child", "count_words")
    .compile()
)
