import { useState } from "react";
import { useAction, useLoad } from "../context";
import { Badge, ErrorBox, JsonEditor, Loading, Time, parseJson, short } from "../ui";

/** Crons with their next fire time; create, enable or disable, delete. */
export function Crons() {
  const crons = useLoad((api) => api.client.crons.search({ limit: 100 }), []);
  const assistants = useLoad((api) => api.client.assistants.search({ limit: 100 }), []);
  const [assistantId, setAssistantId] = useState("");
  const [schedule, setSchedule] = useState("*/5 * * * *");
  const [input, setInput] = useState("{}");
  const { run, error, busy, setError } = useAction();
  const create = async () => {
    let parsed: unknown;
    try {
      parsed = parseJson(input, null);
    } catch (e) {
      setError(`Input is not JSON: ${(e as Error).message}`);
      return;
    }
    if (await run((api) => api.client.crons.create(assistantId, { schedule, input: parsed as Record<string, unknown> }))) crons.reload();
  };
  return (
    <section>
      <h1>Crons</h1>
      <ErrorBox error={crons.error ?? error} />
      <Loading when={crons.loading} />
      <table>
        <thead>
          <tr>
            <th>Cron</th>
            <th>Schedule</th>
            <th>Assistant</th>
            <th>Thread</th>
            <th>Next run</th>
            <th>State</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(crons.data ?? []).map((c) => {
            const enabled = (c as { enabled?: boolean }).enabled !== false;
            return (
              <tr key={c.cron_id}>
                <td>
                  <code>{short(c.cron_id)}</code>
                </td>
                <td>
                  <code>{c.schedule}</code>
                </td>
                <td>
                  <code>{short(c.assistant_id)}</code>
                </td>
                <td>{c.thread_id ? <a href={`#/threads/${c.thread_id}`}>{short(c.thread_id)}</a> : <span className="muted">new each time</span>}</td>
                <td>
                  <Time value={c.next_run_date} />
                </td>
                <td>
                  <Badge status={enabled ? "enabled" : "disabled"} />
                </td>
                <td className="actions">
                  <button
                    onClick={async () => {
                      await run((api) => api.client.crons.update(c.cron_id, { enabled: !enabled }));
                      crons.reload();
                    }}
                  >
                    {enabled ? "Disable" : "Enable"}
                  </button>
                  <button
                    className="danger"
                    onClick={async () => {
                      await run((api) => api.client.crons.delete(c.cron_id));
                      crons.reload();
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="card form">
        <h3>New cron</h3>
        <label>
          <span className="label">Assistant</span>
          <select value={assistantId} onChange={(e) => setAssistantId(e.target.value)}>
            <option value="">choose…</option>
            {(assistants.data ?? []).map((a) => (
              <option key={a.assistant_id} value={a.assistant_id}>
                {a.name} ({a.graph_id})
              </option>
            ))}
          </select>
        </label>
        <label>
          <span className="label">Schedule (cron expression, UTC)</span>
          <input value={schedule} onChange={(e) => setSchedule(e.target.value)} />
        </label>
        <JsonEditor label="Input" value={input} onChange={setInput} rows={4} />
        <button className="primary" disabled={busy || !assistantId} onClick={create}>
          Create cron
        </button>
      </div>
    </section>
  );
}
