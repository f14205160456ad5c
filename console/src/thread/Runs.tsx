import { useLoad } from "../context";
import { href } from "../router";
import { Badge, ErrorBox, JsonTree, Time, short } from "../ui";

function duration(from: string, to: string): string {
  const ms = new Date(to).getTime() - new Date(from).getTime();
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The runs of a thread with status and duration (to its last update); a run's page shows its
 * metadata and, when it failed, the thread's error. */
export function Runs({ threadId, selected, version, error }: { threadId: string; selected: string | null; version: number; error: unknown }) {
  const runs = useLoad((api) => api.client.runs.list(threadId, { limit: 100 }), [threadId, version]);
  const run = (runs.data ?? []).find((r) => r.run_id === selected);
  return (
    <div>
      <ErrorBox error={runs.error} />
      <table>
        <thead>
          <tr>
            <th>Run</th>
            <th>Status</th>
            <th>Started</th>
            <th>Duration</th>
            <th>Strategy</th>
          </tr>
        </thead>
        <tbody>
          {(runs.data ?? []).map((r) => (
            <tr key={r.run_id} className={r.run_id === selected ? "selected" : ""}>
              <td>
                <a href={href(["threads", threadId], { tab: "runs", run: r.run_id })}>
                  <code>{short(r.run_id)}</code>
                </a>
              </td>
              <td>
                <Badge status={r.status} />
              </td>
              <td>
                <Time value={r.created_at} />
              </td>
              <td>{r.status === "pending" || r.status === "running" ? "…" : duration(r.created_at, r.updated_at)}</td>
              <td>{r.multitask_strategy ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {run && (
        <div className="card">
          <h3>Run {run.run_id}</h3>
          {run.status === "error" && error != null && <pre className="error">{JSON.stringify(error, null, 2)}</pre>}
          <JsonTree value={run} expanded />
        </div>
      )}
    </div>
  );
}
