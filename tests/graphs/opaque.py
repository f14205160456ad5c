"""opaque — puts into its state an object msgpack cannot encode, so checkpointing it needs
`checkpointer.serde.pickle_fallback`.

    input:   {"text": "hi"}
    output:  {"text": "hi", "box": <Opaque "hi">}   (the API shows the box as {"text": "hi"})
"""

from typing import Any

from langgraph.graph import START, StateGraph
from typing_extensions import TypedDict


class Opaque:
    def __init__(self, text: str) -> None:
        self.text = text


class State(TypedDict, total=False):
    text: str
    box: Any


def wrap(state: State) -> State:
    return {"box": Opaque(state.get("text", ""))}


graph = StateGraph(State).add_node(wrap).add_edge(START, "wrap").compile()
