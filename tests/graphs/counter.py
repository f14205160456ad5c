"""counter — two nodes and a list reducer (interrupt_before/after, update_state, as_node, forks).

`paused` is the same graph compiled to stop before "double"; `paused_parent` runs `paused`
as a subgraph node: static interrupts that no run asked for, at both depths.

"increment" adds 1 to `count`, then "double" doubles it; each appends its name to `log`, which
accumulates with operator.add (so updates to `log` extend it, updates to `count` replace it).

    input:   {"count": 1}
    output:  {"count": 4, "log": ["increment", "double"]}
"""

import operator
from typing import Annotated

from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    count: int
    log: Annotated[list[str], operator.add]


def increment(state: State) -> State:
    return {"count": state.get("count", 0) + 1, "log": ["increment"]}


def double(state: State) -> State:
    return {"count": state.get("count", 0) * 2, "log": ["double"]}


builder = (
    StateGraph(State)
    .add_node(increment)
    .add_node(double)
    .add_edge(START, "increment")
    .add_edge("increment", "double")
    .add_edge("double", END)
)
graph = builder.compile()
paused = builder.compile(interrupt_before=["double"])
paused_parent = (
    StateGraph(State).add_node("child", paused).add_edge(START, "child").compile()
)
