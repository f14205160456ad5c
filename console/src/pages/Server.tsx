import { useLoad } from "../context";
import { API_URL } from "../api";
import { ErrorBox, JsonTree } from "../ui";

/** What this server is: version, graphs, flags, and its metrics when it serves them. */
export function Server() {
  const info = useLoad((api) => api.system.info(), []);
  const graphs = useLoad((api) => api.client.assistants.search({ limit: 100, metadata: { created_by: "system" } }), []);
  const metrics = useLoad((api) => api.system.metrics(), []);
  const data = info.data as { version?: string; langgraph_py_version?: string; flags?: Record<string, boolean>; host?: Record<string, unknown> } | undefined;
  return (
    <section>
      <h1>Server</h1>
      <ErrorBox error={info.error} />
      <div className="grid-2">
        <div className="card">
          <dl>
            <dt>API</dt>
            <dd>
              <code>{API_URL}</code>
            </dd>
            <dt>Graphport</dt>
            <dd data-testid="version">{data?.version ?? "…"}</dd>
            <dt>LangGraph</dt>
            <dd>{data?.langgraph_py_version ?? "…"}</dd>
            <dt>Backend</dt>
            <dd>{String(data?.host?.backend ?? "…")}</dd>
          </dl>
          <h3>Graphs</h3>
          <ul>
            {(graphs.data ?? []).map((a) => (
              <li key={a.assistant_id}>
                <a href={`#/assistants/${a.assistant_id}`}>{a.graph_id}</a>
                {a.description ? <span className="muted"> — {a.description}</span> : null}
              </li>
            ))}
          </ul>
        </div>
        <div className="card">
          <h3>Flags</h3>
          <ul className="flags">
            {Object.entries(data?.flags ?? {}).map(([k, v]) => (
              <li key={k}>
                <span className={v ? "on" : "off"}>{v ? "✔" : "✘"}</span> {k}
              </li>
            ))}
          </ul>
          <h3>Queue and workers</h3>
          {metrics.data ? <JsonTree value={metrics.data} expanded /> : <p className="muted">This server does not publish metrics at /metrics.</p>}
        </div>
      </div>
    </section>
  );
}
