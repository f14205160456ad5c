"""echo — the smallest useful graph: one async node that repeats the last message.

Used by the benchmarks, so it does nothing else.

    input:   {"messages": [{"role": "user", "content": "ping"}]}
    output:  the same messages plus an AI message "ping"
"""

from langchain_core.messages import AIMessage
from langgraph.graph import START, MessagesState, StateGraph


async def echo(state: MessagesState) -> dict:
    if not state["messages"]:
        return {}
    return {"messages": [AIMessage(content=state["messages"][-1].text)]}


graph = StateGraph(MessagesState).add_node(echo).add_edge(START, "echo").compile()
