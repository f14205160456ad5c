"""sleeper — a benchmark graph shaped like an I/O-bound agent (LLM calls): `ticks` steps
(default 5), each a superstep (so a checkpoint) that emits a custom event and sleeps
`seconds / ticks` (default 5 s in all).

    input:   {"seconds": 5, "ticks": 5}
    output:  {"seconds": 5, "ticks": 5, "done": 5}
"""

import asyncio

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    seconds: float
    ticks: int
    done: int


def _ticks(state: State) -> int:
    return max(1, int(state.get("ticks", 5)))


async def tick(state: State) -> State:
    done = state.get("done", 0) + 1
    get_stream_writer()({"tick": done, "of": _ticks(state)})
    await asyncio.sleep(float(state.get("seconds", 5.0)) / _ticks(state))
    return {"done": done}


def more(state: State) -> str:
    return "tick" if state["done"] < _ticks(state) else END


graph = (
    StateGraph(State)
    .add_node(tick)
    .add_edge(START, "tick")
    .add_conditional_edges("tick", more, ["tick", END])
    .compile()
)
