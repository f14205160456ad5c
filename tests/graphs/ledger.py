"""ledger — every run's input token lands in `entries` exactly once, then the run works
for a while: a thread's entries tell which runs took effect, and how often (fault tests).

    input:   {"entries": ["run-1"], "steps": 8, "delay": 0.25}
    output:  {"entries": [..., "run-1"], "steps": 8, "delay": 0.25, "step": 8}
"""

import asyncio
import operator
from typing import Annotated

from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    entries: Annotated[list[str], operator.add]
    steps: int
    delay: float
    step: int


def start(state: State) -> State:
    return {"step": 0}


async def work(state: State) -> State:
    await asyncio.sleep(state.get("delay", 0.1))
    return {"step": state["step"] + 1}


def more(state: State) -> str:
    return "work" if state["step"] < state.get("steps", 3) else END


graph = (
    StateGraph(State)
    .add_node(start)
    .add_node(work)
    .add_edge(START, "start")
    .add_edge("start", "work")
    .add_conditional_edges("work", more, ["work", END])
    .compile()
)
