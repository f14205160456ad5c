import type { Assistant } from "@langchain/langgraph-sdk";
import { useState } from "react";
import { GraphView } from "../components/GraphView";
import { useAction, useConsole, useLoad } from "../context";
import { href, navigate, type Route } from "../router";
import { ErrorBox, JsonEditor, JsonTree, Loading, Tabs, Time, parseJson, pretty, short } from "../ui";

export function Assistants({ id, route }: { id?: string; route: Route }) {
  if (id === "new") return <AssistantForm />;
  if (id) return <AssistantDetail id={id} tab={route.query.get("tab") ?? "overview"} />;
  return <AssistantList graph={route.query.get("graph") ?? ""} />;
}

function AssistantList({ graph }: { graph: string }) {
  const [name, setName] = useState("");
  const list = useLoad(
    (api) => api.client.assistants.search({ graphId: graph || undefined, limit: 100, sortBy: "created_at", sortOrder: "asc" }),
    [graph],
  );
  const graphIds = [...new Set((list.data ?? []).map((a) => a.graph_id))].sort();
  const shown = (list.data ?? []).filter((a) => !name || a.name.toLowerCase().includes(name.toLowerCase()));
  return (
    <section>
      <div className="page-head">
        <h1>Assistants</h1>
        <a className="button primary" href="#/assistants/new">
          New assistant
        </a>
      </div>
      <div className="row filters">
        <label>
          Graph{" "}
          <select value={graph} onChange={(e) => navigate(href(["assistants"], { graph: e.target.value }))}>
            <option value="">all graphs</option>
            {graphIds.map((g) => (
              <option key={g}>{g}</option>
            ))}
          </select>
        </label>
        <input placeholder="Search by name" value={name} onChange={(e) => setName(e.target.value)} />
        <Loading when={list.loading} />
      </div>
      <ErrorBox error={list.error} />
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Graph</th>
            <th>Version</th>
            <th>Description</th>
            <th>Updated</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {shown.map((a) => (
            <tr key={a.assistant_id}>
              <td>
                <a href={href(["assistants", a.assistant_id])}>{a.name}</a>
              </td>
              <td>{a.graph_id}</td>
              <td>v{a.version}</td>
              <td className="muted">{a.description ?? ""}</td>
              <td>
                <Time value={a.updated_at} />
              </td>
              <td>
                <StartThread assistant={a} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** A new thread with this assistant, opened at once. */
export function StartThread({ assistant }: { assistant: Assistant }) {
  const { run, error } = useAction();
  return (
    <>
      <button
        onClick={async () => {
          const thread = await run((api) => api.client.threads.create({ metadata: { graph_id: assistant.graph_id } }));
          if (thread) navigate(href(["threads", thread.thread_id], { assistant: assistant.assistant_id }));
        }}
      >
        Chat / run
      </button>
      <ErrorBox error={error} />
    </>
  );
}

function AssistantDetail({ id, tab }: { id: string; tab: string }) {
  const assistant = useLoad((api) => api.client.assistants.get(id), [id]);
  const a = assistant.data;
  return (
    <section>
      <div className="page-head">
        <h1>
          <a href="#/assistants">Assistants</a> / {a?.name ?? short(id)}
        </h1>
        {a && <StartThread assistant={a} />}
      </div>
      <ErrorBox error={assistant.error} />
      <Tabs tabs={["overview", "graph", "versions", "edit"]} current={tab} base={(t) => href(["assistants", id], { tab: t })} />
      {a && tab === "overview" && <Overview assistant={a} />}
      {a && tab === "graph" && <GraphView assistantId={id} />}
      {a && tab === "versions" && <Versions assistant={a} onChange={assistant.reload} />}
      {a && tab === "edit" && <AssistantForm assistant={a} />}
    </section>
  );
}

function Overview({ assistant: a }: { assistant: Assistant }) {
  const schemas = useLoad((api) => api.client.assistants.getSchemas(a.assistant_id), [a.assistant_id]);
  return (
    <div className="grid-2">
      <div className="card">
        <h3>Assistant</h3>
        <dl>
          <dt>ID</dt>
          <dd>
            <code>{a.assistant_id}</code>
          </dd>
          <dt>Graph</dt>
          <dd>{a.graph_id}</dd>
          <dt>Version</dt>
          <dd>v{a.version}</dd>
          <dt>Created</dt>
          <dd>
            <Time value={a.created_at} />
          </dd>
        </dl>
        <h3>Config</h3>
        <JsonTree value={a.config} expanded />
        <h3>Context</h3>
        <JsonTree value={a.context ?? {}} expanded />
        <h3>Metadata</h3>
        <JsonTree value={a.metadata} expanded />
      </div>
      <div className="card">
        <h3>Schemas</h3>
        <ErrorBox error={schemas.error} />
        {schemas.data && <JsonTree value={schemas.data} />}
      </div>
    </div>
  );
}

/** Flattened `path -> JSON` of a value, for a readable diff of two versions. */
function flatten(value: unknown, path = "", out: Record<string, string> = {}): Record<string, string> {
  if (value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length) {
    for (const [k, v] of Object.entries(value)) flatten(v, path ? `${path}.${k}` : k, out);
  } else out[path] = JSON.stringify(value);
  return out;
}

function Versions({ assistant, onChange }: { assistant: Assistant; onChange: () => void }) {
  const versions = useLoad((api) => api.client.assistants.getVersions(assistant.assistant_id, { limit: 100 }), [assistant.version]);
  const [left, setLeft] = useState<number | null>(null);
  const [right, setRight] = useState<number | null>(null);
  const { run, error } = useAction();
  const list = versions.data ?? [];
  const pick = (n: number | null) => list.find((v) => v.version === n);
  const a = pick(left);
  const b = pick(right);
  const fields = (v: typeof a) => flatten({ name: v?.name, config: v?.config, context: v?.context, metadata: v?.metadata });
  const fa = fields(a);
  const fb = fields(b);
  const keys = [...new Set([...Object.keys(fa), ...Object.keys(fb)])].sort().filter((k) => fa[k] !== fb[k]);
  return (
    <div>
      <ErrorBox error={versions.error ?? error} />
      <table>
        <thead>
          <tr>
            <th>Version</th>
            <th>Name</th>
            <th>Created</th>
            <th>Compare</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.map((v) => (
            <tr key={v.version}>
              <td>
                v{v.version} {v.version === assistant.version && <span className="badge badge-success">latest</span>}
              </td>
              <td>{v.name}</td>
              <td>
                <Time value={v.created_at} />
              </td>
              <td>
                <label className="check">
                  <input type="radio" name="left" checked={left === v.version} onChange={() => setLeft(v.version)} /> A
                </label>{" "}
                <label className="check">
                  <input type="radio" name="right" checked={right === v.version} onChange={() => setRight(v.version)} /> B
                </label>
              </td>
              <td>
                {v.version !== assistant.version && (
                  <button
                    onClick={async () => {
                      await run((api) => api.client.assistants.setLatest(assistant.assistant_id, v.version));
                      onChange();
                    }}
                  >
                    Make latest
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {a && b && (
        <div className="card">
          <h3>
            Diff v{a.version} → v{b.version}
          </h3>
          {keys.length === 0 && <p className="muted">No differences.</p>}
          <table className="diff">
            <tbody>
              {keys.map((k) => (
                <tr key={k}>
                  <td>
                    <code>{k}</code>
                  </td>
                  <td className="removed">{fa[k] ?? "—"}</td>
                  <td className="added">{fb[k] ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** Create an assistant, or edit one (a new version); context starts from the graph's
 * context schema. */
function AssistantForm({ assistant }: { assistant?: Assistant }) {
  const { api } = useConsole();
  const info = useLoad((x) => x.client.assistants.search({ limit: 100, metadata: { created_by: "system" } }), []);
  const [graphId, setGraphId] = useState(assistant?.graph_id ?? "");
  const [name, setName] = useState(assistant?.name ?? "");
  const [description, setDescription] = useState(assistant?.description ?? "");
  const [config, setConfig] = useState(pretty(assistant?.config ?? {}));
  const [context, setContext] = useState(pretty(assistant?.context ?? {}));
  const [metadata, setMetadata] = useState(pretty(assistant?.metadata ?? {}));
  const { run, error, busy, setError } = useAction();
  const graphs = [...new Set((info.data ?? []).map((a) => a.graph_id))].sort();
  const fromSchema = async () => {
    const system = (info.data ?? []).find((a) => a.graph_id === graphId);
    if (!system) return;
    const schemas = await run(() => api.client.assistants.getSchemas(system.assistant_id));
    const props = (schemas?.context_schema as { properties?: Record<string, unknown> } | null)?.properties ?? {};
    setContext(pretty(Object.fromEntries(Object.keys(props).map((k) => [k, null]))));
  };
  const save = async () => {
    let payload;
    try {
      payload = {
        name,
        description: description || undefined,
        config: parseJson(config, {}) as Record<string, unknown>,
        context: parseJson(context, {}),
        metadata: parseJson(metadata, {}) as Record<string, unknown>,
      };
    } catch (e) {
      setError(`Invalid JSON: ${(e as Error).message}`);
      return;
    }
    const saved = await run((x) =>
      assistant
        ? x.client.assistants.update(assistant.assistant_id, payload)
        : x.client.assistants.create({ graphId, ...payload }),
    );
    if (saved) navigate(href(["assistants", saved.assistant_id], { tab: "overview" }));
  };
  return (
    <section className="card form">
      {!assistant && <h1>New assistant</h1>}
      <label>
        <span className="label">Graph</span>
        <select value={graphId} disabled={!!assistant} onChange={(e) => setGraphId(e.target.value)}>
          <option value="">choose a graph</option>
          {graphs.map((g) => (
            <option key={g}>{g}</option>
          ))}
        </select>
      </label>
      <label>
        <span className="label">Name</span>
        <input value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        <span className="label">Description</span>
        <input value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <JsonEditor label="Config" value={config} onChange={setConfig} />
      <JsonEditor label="Context" value={context} onChange={setContext} />
      <button type="button" onClick={fromSchema} disabled={!graphId}>
        Fill context from the graph's context schema
      </button>
      <JsonEditor label="Metadata" value={metadata} onChange={setMetadata} />
      <ErrorBox error={error} />
      <div className="row">
        <button className="primary" disabled={busy || !graphId} onClick={save}>
          {assistant ? "Save as new version" : "Create"}
        </button>
      </div>
    </section>
  );
}
