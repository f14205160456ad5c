import type { ThreadStatus } from "@langchain/langgraph-sdk";
import { useState } from "react";
import { useAction, useLoad } from "../context";
import { href, navigate, type Route } from "../router";
import { Badge, ErrorBox, Loading, Time, parseJson, short } from "../ui";

const STATUSES = ["", "idle", "busy", "interrupted", "error"];

export function Threads({ route }: { route: Route }) {
  const status = route.query.get("status") ?? "";
  const metadata = route.query.get("metadata") ?? "";
  const [metadataText, setMetadataText] = useState(metadata);
  let filter: Record<string, unknown> | undefined;
  let filterError: string | null = null;
  try {
    filter = parseJson(metadata) as Record<string, unknown> | undefined;
  } catch (e) {
    filterError = `Metadata filter: ${(e as Error).message}`;
  }
  const threads = useLoad(
    (api) =>
      api.client.threads.search({
        status: (status || undefined) as ThreadStatus | undefined,
        metadata: filter,
        limit: 100,
        sortBy: "updated_at",
        sortOrder: "desc",
      }),
    [status, metadata],
  );
  const { run, error } = useAction();
  const setQuery = (q: Record<string, string>) => navigate(href(["threads"], { status, metadata, ...q }));
  return (
    <section>
      <div className="page-head">
        <h1>Threads</h1>
        <button
          className="primary"
          onClick={async () => {
            const t = await run((api) => api.client.threads.create());
            if (t) navigate(href(["threads", t.thread_id]));
          }}
        >
          New thread
        </button>
      </div>
      <form
        className="row filters"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ metadata: metadataText });
        }}
      >
        <label>
          Status{" "}
          <select value={status} onChange={(e) => setQuery({ status: e.target.value })}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || "any"}
              </option>
            ))}
          </select>
        </label>
        <input
          className="wide"
          placeholder='Metadata filter, e.g. {"graph_id": "agent"}'
          value={metadataText}
          onChange={(e) => setMetadataText(e.target.value)}
        />
        <button type="submit">Filter</button>
        <Loading when={threads.loading} />
      </form>
      <ErrorBox error={filterError ?? threads.error ?? error} />
      <table>
        <thead>
          <tr>
            <th>Thread</th>
            <th>Status</th>
            <th>Updated</th>
            <th>Metadata</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(threads.data ?? []).map((t) => (
            <tr key={t.thread_id}>
              <td>
                <a href={href(["threads", t.thread_id])}>
                  <code>{short(t.thread_id)}</code>
                </a>
              </td>
              <td>
                <Badge status={t.status} />
              </td>
              <td>
                <Time value={t.updated_at} />
              </td>
              <td className="meta">
                {Object.entries(t.metadata ?? {})
                  .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
                  .join(" · ")}
              </td>
              <td className="actions">
                <button
                  onClick={async () => {
                    const copy = await run((api) => api.client.threads.copy(t.thread_id));
                    if (copy) threads.reload();
                  }}
                >
                  Copy
                </button>
                <button
                  className="danger"
                  onClick={async () => {
                    if (!window.confirm(`Delete thread ${t.thread_id}?`)) return;
                    await run((api) => api.client.threads.delete(t.thread_id));
                    threads.reload();
                  }}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
