"""hitl — human in the loop: write a draft, pause for review with `interrupt()`, then finalize.

Drive it over the API like this:

    input:   {"topic": "otters"}
    pauses:  the run ends "interrupted" with {"question": ..., "draft": ...} as the interrupt value
    resume:  command={"resume": "yes"} keeps the draft; any other string replaces it
"""

from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt
from typing_extensions import TypedDict

APPROVALS = (True, "yes", "approve", "approved")


class State(TypedDict, total=False):
    topic: str
    draft: str
    review: Any  # whatever the human resumed with
    final: str


def write_draft(state: State) -> State:
    topic = state.get("topic") or "nothing in particular"
    return {"draft": f"A short note about {topic}."}


def ask_human(state: State) -> State:
    # The run stops here; on resume this node re-runs and interrupt() returns the resume value.
    answer = interrupt(
        {
            "question": "Approve this draft? Resume with 'yes', or with a replacement text.",
            "draft": state["draft"],
        }
    )
    return {"review": answer}


def finalize(state: State) -> State:
    review = state.get("review")
    return {"final": state["draft"] if review in APPROVALS else str(review)}


graph = (
    StateGraph(State)
    .add_node(write_draft)
    .add_node(ask_human)
    .add_node(finalize)
    .add_edge(START, "write_draft")
    .add_edge("write_draft", "ask_human")
    .add_edge("ask_human", "finalize")
    .add_edge("finalize", END)
    .compile()
)
