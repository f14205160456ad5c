"""blocking — a sync node that blocks: time.sleep plus a CPU loop.

langgraph runs sync nodes in a thread pool, so the server's event loop must stay responsive while
this runs. The output names the thread the node ran in.

    input:   {"sleep": 0.3, "iterations": 200000}   (both optional; these are the defaults)
    output:  {..., "total": <sum of squares>, "thread": "<worker thread name>"}
"""

import threading
import time

from langgraph.graph import START, StateGraph
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    sleep: float
    iterations: int
    total: int
    thread: str


def work(state: State) -> State:
    time.sleep(state.get("sleep", 0.3))
    total = sum(i * i for i in range(state.get("iterations", 200_000)))
    return {"total": total, "thread": threading.current_thread().name}


graph = StateGraph(State).add_node(work).add_edge(START, "work").compile()
