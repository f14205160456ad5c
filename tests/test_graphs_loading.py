"""graphport.server.graphs: langgraph.json, importing graphs, schemas — and the graphs we ship."""

import asyncio
import json
import os
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph
from langgraph.store.memory import InMemoryStore
from langgraph.types import Command
from typing_extensions import TypedDict

from graphport.server.graphs import (
    ConfigError,
    GraphLoadError,
    GraphNotFoundError,
    GraphRegistry,
    LangGraphConfig,
    drawable_graph,
    graph_schemas,
    load_config,
    subgraph_schemas,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "langgraph.json"
TEST_GRAPHS = ROOT / "tests" / "graphs" / "langgraph.json"
EXAMPLE_IDS = ["agent", "hitl", "subgraph", "memory", "echo"]
SCHEMA_KEYS = {"input_schema", "output_schema", "state_schema", "config_schema", "context_schema"}


@pytest.fixture(scope="module")
def examples() -> Iterator[GraphRegistry]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "path", list(sys.path))
        yield GraphRegistry.load(load_config(EXAMPLES))


@pytest.fixture(scope="module")
def test_graphs() -> Iterator[GraphRegistry]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "path", list(sys.path))
        yield GraphRegistry.load(load_config(TEST_GRAPHS))


@pytest.fixture
def isolated_sys_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading a config prepends to sys.path; keep that from leaking into other tests."""
    monkeypatch.setattr(sys, "path", list(sys.path))


def write_project(root: Path, files: dict[str, str], config: dict) -> LangGraphConfig:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "langgraph.json").write_text(json.dumps(config))
    return load_config(root / "langgraph.json")


def thread(thread_id: str | None = None) -> dict:
    return {"configurable": {"thread_id": thread_id or str(uuid.uuid4())}}


SMALL_GRAPH = """
from langgraph.graph import START, StateGraph
from typing_extensions import TypedDict

class State(TypedDict, total=False):
    value: str

def node(state: State) -> State:
    return {"value": MARK}

graph = StateGraph(State).add_node(node).add_edge(START, "node").compile()
"""


def small_graph(mark: str) -> str:
    return SMALL_GRAPH.replace("MARK", repr(mark))


# -- langgraph.json ------------------------------------------------------------------------------


def test_load_config_reads_examples() -> None:
    config = load_config(EXAMPLES)
    assert config.path == EXAMPLES
    assert config.base_dir == EXAMPLES.parent
    assert list(config.graphs) == EXAMPLE_IDS
    assert config.graphs["agent"] == "./agent.py:graph"  # the {"path": ...} form is flattened
    assert config.graphs["echo"] == "./echo.py:graph"
    assert config.graph_descriptions["hitl"].startswith("Draft")
    assert "echo" not in config.graph_descriptions
    assert config.dependencies == ["."]
    assert config.env is None and config.auth is None and config.store is None
    assert config.raw["$schema"] == "https://langgra.ph/schema.json"


def test_load_config_accepts_a_directory_and_keeps_unknown_keys(tmp_path: Path) -> None:
    raw = {
        "graphs": {"g": "pkg.module:graph"},
        "python_version": "3.12",
        "webhooks": {"env_prefix": "X_"},
        "env": {"A": 1},
        "auth": {"path": "./auth.py:auth"},
        "store": {"ttl": {"default_ttl": 5}},
        "checkpointer": {"ttl": {"strategy": "delete"}},
        "http": {"mount_prefix": "/api"},
    }
    (tmp_path / "langgraph.json").write_text(json.dumps(raw))
    config = load_config(tmp_path)
    assert config.raw == raw
    assert config.env == {"A": "1"}
    assert config.auth == raw["auth"] and config.http == raw["http"]
    assert config.store == raw["store"] and config.checkpointer == raw["checkpointer"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Config file not found"),
        ("{not json", "Invalid JSON"),
        ("[]", "expected a JSON object"),
        ("{}", "missing required key 'graphs'"),
        ('{"graphs": {}}', "non-empty"),
        ('{"graphs": {"g": "./agent.py"}}', "graph 'g'"),
        ('{"graphs": {"g": 3}}', "graph 'g'"),
        ('{"graphs": {"g": "m:g"}, "dependencies": "."}', "'dependencies'"),
        ('{"graphs": {"g": "m:g"}, "env": 3}', "'env'"),
        ('{"graphs": {"g": "m:g"}, "auth": "x"}', "'auth'"),
    ],
)
def test_load_config_errors(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "langgraph.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


# -- registry basics ------------------------------------------------------------------------------


def test_graph_ids_and_system_assistants(examples: GraphRegistry) -> None:
    assert examples.graph_ids == EXAMPLE_IDS
    # the official server's id for a graph called "agent"
    assert examples.system_assistant_id("agent") == "fe096781-5601-53d2-b2f6-0d3403f7e9ca"
    namespace = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")
    assert examples.system_assistant_id("echo") == str(uuid.uuid5(namespace, "echo"))
    assert examples.resolve_assistant_id("echo") == examples.system_assistant_id("echo")
    other = str(uuid.uuid4())
    assert examples.resolve_assistant_id(other) == other
    assert examples.resolve_assistant_id("not-a-graph") == "not-a-graph"
    assert "agent" in examples and "nope" not in examples
    assert examples.description("agent") == "Chat agent with a fake, token-streaming model"
    assert examples.description("echo") is None


def test_default_assistant_names(examples: GraphRegistry, test_graphs: GraphRegistry) -> None:
    assert examples.default_assistant_name("agent") == "agent"  # compiled, default "LangGraph"
    assert test_graphs.default_assistant_name("context") == "Greeter"  # compile(name=...)
    assert test_graphs.default_assistant_name("builder") == "builder"
    assert test_graphs.default_assistant_name("sync_factory") == "sync_factory"
    assert test_graphs.is_factory("async_factory") and not test_graphs.is_factory("builder")


async def test_unknown_graph_id(examples: GraphRegistry) -> None:
    message = (
        "Graph 'nope' not found. Expected one of: ['agent', 'hitl', 'subgraph', 'memory', 'echo']"
    )
    with pytest.raises(GraphNotFoundError) as info:
        async with examples.graph("nope"):
            pass
    assert str(info.value) == message
    with pytest.raises(GraphNotFoundError):
        examples.default_assistant_name("nope")


# -- every variable shape yields a working graph --------------------------------------------------


@pytest.mark.parametrize(
    ("graph_id", "reply"),
    [
        ("builder", "hello world (builder)"),
        ("sync_factory", "hi world (sync_factory)"),
        ("noarg_factory", "hello world (noarg_factory)"),
        ("async_factory", "hi world (async_factory)"),
        ("async_cm_factory", "hello world (async_cm_factory, resource open)"),
        ("sync_cm_factory", "hello world (sync_cm_factory, resource open)"),
        ("context", "hello world (context)"),
    ],
)
async def test_variants_run(test_graphs: GraphRegistry, graph_id: str, reply: str) -> None:
    config = {"configurable": {"greeting": "hi"}}
    async with test_graphs.graph(graph_id, config, checkpointer=InMemorySaver()) as graph:
        result = await graph.ainvoke({"text": "world"}, thread())
    assert result == {"text": "world", "reply": reply}


async def test_factory_gets_a_config_even_without_one(test_graphs: GraphRegistry) -> None:
    async with test_graphs.graph("sync_factory") as graph:
        assert (await graph.ainvoke({"text": "x"}))["reply"] == "hello x (sync_factory)"


@pytest.mark.parametrize("graph_id", ["async_cm_factory", "sync_cm_factory"])
async def test_context_manager_factory_closes_after_use(
    test_graphs: GraphRegistry, graph_id: str
) -> None:
    async with test_graphs.graph(graph_id) as graph:
        assert "resource open" in (await graph.ainvoke({"text": "a"}))["reply"]
    assert "resource closed" in (await graph.ainvoke({"text": "a"}))["reply"]


async def test_context_schema_graph_reads_context(test_graphs: GraphRegistry) -> None:
    async with test_graphs.graph("context") as graph:
        result = await graph.ainvoke({"text": "you"}, context={"greeting": "hey"})
    assert result["reply"] == "hey you (context)"


async def test_checkpointer_and_store_are_attached_to_a_copy(examples: GraphRegistry) -> None:
    saver, store = InMemorySaver(), InMemoryStore()
    async with examples.graph("echo", checkpointer=saver, store=store) as graph:
        assert graph.checkpointer is saver and graph.store is store
        config = thread()
        await graph.ainvoke({"messages": [{"role": "user", "content": "ping"}]}, config)
        state = await graph.aget_state(config)
        assert [m.content for m in state.values["messages"]] == ["ping", "ping"]
    async with examples.graph("echo") as stateless:
        assert stateless.checkpointer is None
        assert stateless is not graph
    async with examples.graph("echo", checkpointer=saver) as again:
        assert again.checkpointer is saver


async def test_checkpointer_none_removes_a_compiled_in_checkpointer(
    tmp_path: Path, isolated_sys_path: None
) -> None:
    source = small_graph("x").replace(".compile()", ".compile(checkpointer=InMemorySaver())")
    source = "from langgraph.checkpoint.memory import InMemorySaver\n" + source
    config = write_project(tmp_path, {"g.py": source}, {"graphs": {"g": "./g.py:graph"}})
    async with GraphRegistry.load(config).graph("g") as graph:
        assert graph.checkpointer is None
        assert await graph.ainvoke({}) == {"value": "x"}


async def test_several_graphs_from_one_file_share_the_module(test_graphs: GraphRegistry) -> None:
    async with test_graphs.graph("builder") as a, test_graphs.graph("context") as b:
        module_a = a.builder.nodes["respond"].runnable.func.__module__
        module_b = b.builder.nodes["respond"].runnable.func.__module__
    assert module_a == module_b


# -- load errors name the graph and the file -------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "spec", "message"),
    [
        ({}, "./missing.py:graph", "from ./missing.py: file not found"),
        ({"g.py": small_graph("x")}, "./g.py:grph", "from ./g.py: variable 'grph' not found"),
        ({"g.py": "def broken(:\n"}, "./g.py:graph", "from ./g.py: SyntaxError"),
        (
            {"g.py": "import not_a_real_module_xyz\n"},
            "./g.py:graph",
            "from ./g.py: ModuleNotFoundError: No module named 'not_a_real_module_xyz'",
        ),
        (
            {"g.py": "raise RuntimeError('bad import')\n"},
            "./g.py:graph",
            "RuntimeError: bad import",
        ),
        ({"g.py": "graph = 42\n"}, "./g.py:graph", "variable 'graph' is a int; expected"),
        ({"g.py": "class graph: pass\n"}, "./g.py:graph", "variable 'graph' is a type"),
        ({"g.ts": "export const graph = 1\n"}, "./g.ts:graph", "only Python"),
        ({}, "no_such_pkg_xyz.graphs:graph", "module 'no_such_pkg_xyz.graphs' not found"),
        (
            {
                "bad_builder.py": "from langgraph.graph import StateGraph\n"
                "from typing_extensions import TypedDict\n"
                "class S(TypedDict):\n    x: int\n"
                "graph = StateGraph(S)\n"
            },
            "./bad_builder.py:graph",
            "StateGraph could not be compiled",
        ),
    ],
)
def test_load_errors(
    tmp_path: Path, isolated_sys_path: None, files: dict[str, str], spec: str, message: str
) -> None:
    config = write_project(tmp_path, files, {"graphs": {"my_graph": spec}, "dependencies": ["."]})
    with pytest.raises(GraphLoadError) as info:
        GraphRegistry.load(config)
    text = str(info.value)
    assert text.startswith(f"Failed to load graph 'my_graph' from {spec.rpartition(':')[0]}: ")
    assert message in text


def test_failed_import_leaves_no_half_module(tmp_path: Path, isolated_sys_path: None) -> None:
    config = write_project(
        tmp_path, {"g.py": "raise ValueError('x')\n"}, {"graphs": {"g": "./g.py:graph"}}
    )
    before = set(sys.modules)
    with pytest.raises(GraphLoadError):
        GraphRegistry.load(config)
    assert set(sys.modules) == before


async def test_factory_returning_the_wrong_type(tmp_path: Path, isolated_sys_path: None) -> None:
    files = {
        "f.py": "def make(config):\n    return 'not a graph'\n\n"
        "def explode(config):\n    raise ValueError('no graph today')\n"
    }
    graphs = {"wrong": "./f.py:make", "raises": "./f.py:explode"}
    registry = GraphRegistry.load(write_project(tmp_path, files, {"graphs": graphs}))
    with pytest.raises(
        GraphLoadError, match=r"graph 'wrong' from ./f.py: factory 'make' returned a str"
    ):
        async with registry.graph("wrong"):
            pass
    with pytest.raises(GraphLoadError, match=r"'raises' .*ValueError: no graph today"):
        async with registry.graph("raises"):
            pass


# -- env and dependencies ------------------------------------------------------------------------


def test_env_dict_does_not_override(
    tmp_path: Path, isolated_sys_path: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GP_TEST_NEW", raising=False)
    monkeypatch.setenv("GP_TEST_SET", "from-process")
    env = {"GP_TEST_NEW": "from-config", "GP_TEST_SET": "from-config"}
    config = write_project(
        tmp_path, {"g.py": small_graph("x")}, {"graphs": {"g": "./g.py:graph"}, "env": env}
    )
    GraphRegistry.load(config)
    assert os.environ["GP_TEST_NEW"] == "from-config"
    assert os.environ["GP_TEST_SET"] == "from-process"


async def test_env_file_is_applied_before_import(
    tmp_path: Path, isolated_sys_path: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GP_TEST_DOTENV", raising=False)
    monkeypatch.delenv("GP_TEST_DOTENV_SET", raising=False)
    monkeypatch.setenv("GP_TEST_DOTENV_SET", "from-process")
    source = "import os\n" + small_graph("x").replace(
        "'x'", "os.environ['GP_TEST_DOTENV'] + os.environ['GP_TEST_DOTENV_SET']"
    )
    files = {
        "project/g.py": source,
        "project/config/.env": "GP_TEST_DOTENV=from-file\nGP_TEST_DOTENV_SET=from-file\n",
    }
    (tmp_path / "project" / "config").mkdir(parents=True)
    config = write_project(
        tmp_path / "project",
        {k.removeprefix("project/"): v for k, v in files.items()},
        {"graphs": {"g": "./g.py:graph"}, "env": "./config/.env"},
    )
    async with GraphRegistry.load(config).graph("g") as graph:
        assert await graph.ainvoke({}) == {"value": "from-filefrom-process"}


def test_missing_env_file_is_only_a_warning(
    tmp_path: Path, isolated_sys_path: None, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_project(
        tmp_path, {"g.py": small_graph("x")}, {"graphs": {"g": "./g.py:graph"}, "env": ".env"}
    )
    GraphRegistry.load(config)
    assert "does not exist" in caplog.text


async def test_dependencies_go_on_sys_path(tmp_path: Path, isolated_sys_path: None) -> None:
    files = {
        "libs/gp_dep_helpers.py": "SUFFIX = '!'\n",
        "gp_dep_pkg/__init__.py": "",
        "gp_dep_pkg/graphs.py": "from gp_dep_helpers import SUFFIX\n"
        + small_graph("x").replace("'x'", "'module' + SUFFIX"),
    }
    config = write_project(
        tmp_path,
        files,
        {
            "graphs": {"g": "gp_dep_pkg.graphs:graph"},
            "dependencies": [".", "./libs", "langchain-openai", "./does-not-exist"],
        },
    )
    registry = GraphRegistry.load(config)
    assert sys.path[:2] == [str(tmp_path), str(tmp_path / "libs")]
    async with registry.graph("g") as graph:
        assert await graph.ainvoke({}) == {"value": "module!"}


async def test_src_layout_and_relative_imports(tmp_path: Path, isolated_sys_path: None) -> None:
    files = {
        "pyproject.toml": "[project]\nname = 'gp-src-agent'\n",
        "src/gp_src_agent/__init__.py": "",
        "src/gp_src_agent/names.py": "NAME = 'relative'\n",
        "src/gp_src_agent/graph.py": "from .names import NAME\n"
        + small_graph("x").replace("'x'", "NAME"),
    }
    config = write_project(
        tmp_path,
        files,
        {"graphs": {"g": "./src/gp_src_agent/graph.py:graph"}, "dependencies": ["."]},
    )
    registry = GraphRegistry.load(config)
    assert str(tmp_path / "src") in sys.path
    async with registry.graph("g") as graph:
        assert await graph.ainvoke({}) == {"value": "relative"}
    # imported under its package name, so importing it elsewhere yields the same module
    assert "gp_src_agent.graph" in sys.modules


# -- schemas --------------------------------------------------------------------------------------


@pytest.mark.parametrize("graph_id", EXAMPLE_IDS)
async def test_example_schemas(examples: GraphRegistry, graph_id: str) -> None:
    async with examples.graph(graph_id) as graph:
        schemas = await asyncio.to_thread(graph_schemas, graph, graph_id)
    assert set(schemas) == SCHEMA_KEYS | {"graph_id"}
    assert schemas["graph_id"] == graph_id
    for key in ("input_schema", "output_schema", "state_schema"):
        assert schemas[key]["type"] == "object", key
    json.dumps(schemas)
    if graph_id == "memory":
        assert set(schemas["config_schema"]["properties"]) == {"user_id"}
        assert set(schemas["context_schema"]["properties"]) == {"user_id"}
    else:
        assert schemas["config_schema"] == {}
        assert schemas["context_schema"] is None


async def test_state_schema_lists_channels(examples: GraphRegistry) -> None:
    async with examples.graph("hitl") as graph:
        state = graph_schemas(graph, "hitl")["state_schema"]
    assert set(state["properties"]) == {"topic", "draft", "review", "final"}
    assert state["properties"]["topic"]["type"] == "string"


class Opaque:
    """A type pydantic cannot describe."""


class OpaqueState(TypedDict, total=False):
    thing: Opaque
    name: str


# functional form: a class body would name-mangle "__pregel_internal"
ServerKeysContext = TypedDict(
    "ServerKeysContext",
    {"thread_id": str, "checkpoint_ns": str, "__pregel_internal": str, "model": str},
)


def test_schema_failures_degrade_per_schema() -> None:
    graph = (
        StateGraph(OpaqueState, context_schema=ServerKeysContext)
        .add_node("n", lambda s: {})
        .add_edge(START, "n")
        .compile()
    )
    schemas = graph_schemas(graph, "g")
    assert schemas["input_schema"] is None and schemas["output_schema"] is None
    assert set(schemas["state_schema"]["properties"]) == {"thing", "name"}  # "thing" is Any
    assert schemas["state_schema"]["properties"]["name"]["type"] == "string"
    assert schemas["config_schema"]["properties"].keys() == {"model"}
    assert schemas["config_schema"]["required"] == ["model"]
    assert "thread_id" in schemas["context_schema"]["properties"]


class Leaf(TypedDict, total=False):
    v: Annotated[int, "leaf"]


def nested_graph():
    def build(name: str, child=None):
        builder = StateGraph(Leaf).add_node("work", lambda s: {"v": 1})
        if child is not None:
            builder.add_node("inner", child).add_edge("work", "inner")
        return builder.add_edge(START, "work").compile(name=name)

    return build("outer", build("middle", build("leaf")))


async def test_subgraph_schemas(examples: GraphRegistry) -> None:
    async with examples.graph("subgraph") as graph:
        found = await asyncio.to_thread(subgraph_schemas, graph, None, False)
        assert list(found) == ["child"]
        assert set(found["child"]) == SCHEMA_KEYS
        assert set(found["child"]["state_schema"]["properties"]) == {"text"}
        assert list(subgraph_schemas(graph, "child", False)) == ["child"]
        assert subgraph_schemas(graph, "nope", True) == {}
    async with examples.graph("echo") as graph:
        assert subgraph_schemas(graph, None, True) == {}

    outer = nested_graph()
    assert list(subgraph_schemas(outer, None, False)) == ["inner"]
    assert list(subgraph_schemas(outer, None, True)) == ["inner", "inner|inner"]
    assert list(subgraph_schemas(outer, "inner|inner", True)) == ["inner|inner"]


async def test_drawable_graph(examples: GraphRegistry) -> None:
    async with examples.graph("subgraph") as graph:
        flat = drawable_graph(graph, False)
        deep = await asyncio.to_thread(drawable_graph, graph, True)
        one = drawable_graph(graph, 1)
    assert [n["id"] for n in flat["nodes"]] == [
        "__start__",
        "prepare",
        "child",
        "count_words",
        "__end__",
    ]
    assert {"child:shout", "child:exclaim"} <= {n["id"] for n in deep["nodes"]}
    assert "child" not in {n["id"] for n in deep["nodes"]}
    assert one == deep
    assert {"source": "prepare", "target": "child"} in flat["edges"]
    for node in flat["nodes"] + deep["nodes"]:
        assert "id" not in node.get("data", {})
    json.dumps(deep)

    outer = nested_graph()
    depth_one = {n["id"] for n in drawable_graph(outer, 1)["nodes"]}
    full = {n["id"] for n in drawable_graph(outer, True)["nodes"]}
    assert "inner:inner" in depth_one and "inner:inner:work" in full


def test_drawable_graph_failure() -> None:
    class Undrawable:
        def get_graph(self, xray: bool | int = False) -> None:
            raise NotImplementedError

    with pytest.raises(ValueError, match="The graph does not support visualization"):
        drawable_graph(Undrawable(), True)  # type: ignore[arg-type]


# -- the shipped graphs behave as documented ------------------------------------------------------


async def test_agent_streams_tokens_deterministically(examples: GraphRegistry) -> None:
    async with examples.graph("agent", checkpointer=InMemorySaver()) as graph:
        for _ in range(2):
            chunks = [
                chunk.content
                async for chunk, _meta in graph.astream(
                    {"messages": [{"role": "user", "content": "hello there"}]},
                    thread(),
                    stream_mode="messages",
                )
            ]
            assert "".join(chunks) == "You said: hello there"
            assert len(chunks) > 3


async def test_hitl_interrupts_and_resumes(examples: GraphRegistry) -> None:
    async with examples.graph("hitl", checkpointer=InMemorySaver()) as graph:
        config = thread()
        paused = await graph.ainvoke({"topic": "otters"}, config)
        (pending,) = paused["__interrupt__"]
        assert pending.value["draft"] == "A short note about otters."
        assert "question" in pending.value
        assert (await graph.aget_state(config)).next == ("ask_human",)
        done = await graph.ainvoke(Command(resume="yes"), config)
        assert done["final"] == "A short note about otters."

        config = thread()
        await graph.ainvoke({"topic": "otters"}, config)
        edited = await graph.ainvoke(Command(resume="Otters are great."), config)
        assert edited["final"] == "Otters are great."


async def test_subgraph_streams_with_namespace(examples: GraphRegistry) -> None:
    async with examples.graph("subgraph", checkpointer=InMemorySaver()) as graph:
        namespaces = [
            ns async for ns, _ in graph.astream({"text": " hello world "}, thread(), subgraphs=True)
        ]
        result = await graph.ainvoke({"text": " hello world "}, thread())
    assert any(ns and ns[0].startswith("child:") for ns in namespaces)
    assert result == {"text": "HELLO WORLD!", "words": 2}


async def test_memory_is_shared_across_threads_per_user(examples: GraphRegistry) -> None:
    store = InMemoryStore()
    async with examples.graph("memory", checkpointer=InMemorySaver(), store=store) as graph:
        await graph.ainvoke({"remember": "tea"}, thread(), context={"user_id": "alice"})
        await graph.ainvoke({"remember": "tea"}, thread(), context={"user_id": "alice"})
        config = {"configurable": {"thread_id": str(uuid.uuid4()), "user_id": "alice"}}
        alice = await graph.ainvoke({"remember": "cake"}, config)
        anonymous = await graph.ainvoke({}, thread())
    assert alice["memories"] == ["tea", "cake"]
    assert anonymous["memories"] == []
    assert [i.value for i in store.search(("memories", "alice"))] == [
        {"text": "tea"},
        {"text": "cake"},
    ]


async def test_slow_emits_custom_events(test_graphs: GraphRegistry) -> None:
    async with test_graphs.graph("slow", checkpointer=InMemorySaver()) as graph:
        config = thread()
        events = [
            e
            async for e in graph.astream({"steps": 3, "delay": 0.01}, config, stream_mode="custom")
        ]
        assert events == [{"step": n, "of": 3, "delay": 0.01} for n in (1, 2, 3)]
        # settings may come from configurable; a second run on the thread starts from step 0
        config["configurable"]["steps"] = 2
        result = await graph.ainvoke({"delay": 0.01, "steps": None}, config)
    assert result["step"] == 2
    assert result["log"] == ["tick 1", "tick 2", "tick 3", "tick 1", "tick 2"]


async def test_failing_raises_boom(test_graphs: GraphRegistry) -> None:
    async with test_graphs.graph("failing", checkpointer=InMemorySaver()) as graph:
        config = thread()
        with pytest.raises(ValueError) as info:
            await graph.ainvoke({"value": "x"}, config)
        assert str(info.value) == "boom"  # langgraph adds the task as a note, not to the message
        state = await graph.aget_state(config)
    assert state.values == {"value": "x", "prepared": True}
    assert state.next == ("explode",)


async def test_blocking_runs_off_the_event_loop(test_graphs: GraphRegistry) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        async with test_graphs.graph("blocking") as graph:
            result = await graph.ainvoke({"iterations": 1000})
    finally:
        task.cancel()
    assert result["total"] == sum(i * i for i in range(1000))
    assert result["thread"] != threading.current_thread().name
    assert ticks >= 10  # the loop kept running during time.sleep(0.3)


async def test_counter_interrupts_and_update_state(test_graphs: GraphRegistry) -> None:
    async with test_graphs.graph("counter", checkpointer=InMemorySaver()) as graph:
        assert await graph.ainvoke({"count": 1}, thread()) == {
            "count": 4,
            "log": ["increment", "double"],
        }
        config = thread()
        await graph.ainvoke({"count": 1}, config, interrupt_before=["double"])
        assert (await graph.aget_state(config)).values == {"count": 2, "log": ["increment"]}
        await graph.aupdate_state(config, {"count": 10, "log": ["manual"]}, as_node="increment")
        result = await graph.ainvoke(None, config)
    assert result == {"count": 20, "log": ["increment", "manual", "double"]}


async def test_unimplemented_keys_are_named_at_start_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from langgraph_sdk import get_client

    from conftest import running_server

    ignored = {
        "ui": {"echo": "./ui.tsx"},
        "ui_config": {"shared": ["react"]},
        "disable_persistence": True,
        "grpahs": {},  # a typo: not a key at all
    }
    understood = {
        "python_version": "3.12",
        "webhooks": {"env_prefix": "X_"},
        "checkpointer": {"serde": {"allowed_json_modules": True}, "path": "./cp.py:make"},
        "http": {"disable_mcp": True, "logging_headers": {"includes": ["*"]}},
    }
    config = {"graphs": {"echo": f"{ROOT / 'examples' / 'echo.py'}:graph"}, **ignored, **understood}
    (tmp_path / "langgraph.json").write_text(json.dumps(config))
    caplog.set_level("WARNING", logger="graphport")
    with running_server("sqlite", tmp_path / "langgraph.json") as srv:
        client = get_client(url=srv.url, api_key=None)
        try:
            assistants = await client.assistants.search(graph_id="echo")
            assert [a["graph_id"] for a in assistants] == ["echo"]  # the server still serves
        finally:
            await client.aclose()
    named = [
        r.getMessage().split("'")[1]
        for r in caplog.records
        if r.name.endswith("unsupported") and "ignored" in r.getMessage()
    ]
    expected = [*ignored, "checkpointer.path", "http.logging_headers"]
    assert sorted(named) == sorted(expected)
