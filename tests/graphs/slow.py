"""slow — an async graph that sleeps for a while on every step (cancel, timeout, streaming tests).

A "start" node resets the step counter, then "tick" runs once per step: it emits a custom event
{"step": n, "of": steps, "delay": seconds} and then sleeps. Settings come from the input, else
config["configurable"], else the defaults (3 steps of 0.1 s). Each step is one superstep, so more
than 23 steps needs a higher recursion_limit.

    input:   {"steps": 5, "delay": 0.5}        (or configurable {"steps": ..., "delay": ...})
    output:  {"steps": 5, "delay": 0.5, "step": 5, "log": ["tick 1", ..., "tick 5"]}
"""

import asyncio
import operator
from typing import Annotated

from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    steps: int
    delay: float
    step: int
    log: Annotated[list[str], operator.add]


def _setting(state: State, config: RunnableConfig, key: str, default: float) -> float:
    value = state.get(key)
    if value is None:
        value = config.get("configurable", {}).get(key)
    return default if value is None else value


def start(state: State) -> State:
    return {"step": 0}


async def tick(state: State, config: RunnableConfig) -> State:
    steps = int(_setting(state, config, "steps", 3))
    delay = float(_setting(state, config, "delay", 0.1))
    step = state["step"] + 1
    get_stream_writer()({"step": step, "of": steps, "delay": delay})
    await asyncio.sleep(delay)
    return {"step": step, "log": [f"tick {step}"]}


def more(state: State, config: RunnableConfig) -> str:
    return "tick" if state["step"] < int(_setting(state, config, "steps", 3)) else END


graph = (
    StateGraph(State)
    .add_node(start)
    .add_node(tick)
    .add_edge(START, "start")
    .add_edge("start", "tick")
    .add_conditional_edges("tick", more, ["tick", END])
    .compile()
)
