"""agent — a chat agent on `MessagesState` whose reply streams token by token.

The model is langchain-core's `GenericFakeChatModel`, so no API key or network is needed and the
answer is always "You said: <your last message>". Replace `_model()` with a real chat model to
make it useful; nothing else changes.

    input:  {"messages": [{"role": "user", "content": "hello there"}]}
    try:    stream_mode="messages-tuple" to see one event per token
"""

from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.graph import START, MessagesState, StateGraph


def _last_user_text(messages: list[AnyMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message.text
    return ""


def _model(reply: str) -> BaseChatModel:
    # A fake model replays its scripted messages once, so build a fresh one per call.
    return GenericFakeChatModel(messages=iter([AIMessage(content=reply)]))


async def call_model(state: MessagesState) -> dict:
    reply = f"You said: {_last_user_text(state['messages'])}"
    response = await _model(reply).ainvoke(state["messages"])
    return {"messages": [response]}


graph = StateGraph(MessagesState).add_node(call_model).add_edge(START, "call_model").compile()
