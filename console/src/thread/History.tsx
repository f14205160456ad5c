import type { ThreadState } from "@langchain/langgraph-sdk";
import { useState } from "react";
import { useAction, useLoad } from "../context";
import { href, navigate } from "../router";
import { ErrorBox, JsonEditor, JsonTree, Time, parseJson, pretty, short } from "../ui";

const cid = (s: ThreadState) => s.checkpoint.checkpoint_id ?? "";
const parentId = (s: ThreadState) => s.parent_checkpoint?.checkpoint_id ?? null;

/** The checkpoints of a thread, newest first; a checkpoint whose parent has several
 * children starts a branch (a fork or an edit). */
export function History({ threadId, selected, version }: { threadId: string; selected: string | null; version: number }) {
  const history = useLoad((api) => api.client.threads.getHistory(threadId, { limit: 100 }), [threadId, version]);
  const states = history.data ?? [];
  const children = new Map<string, number>();
  for (const s of states) {
    const p = parentId(s);
    if (p) children.set(p, (children.get(p) ?? 0) + 1);
  }
  const current = states.find((s) => cid(s) === selected);
  const latest = states[0] ? cid(states[0]) : null;
  return (
    <div className="history">
      <ErrorBox error={history.error} />
      <ol className="timeline" data-testid="timeline">
        {states.map((s) => {
          const id = cid(s);
          const p = parentId(s);
          const branch = p !== null && (children.get(p) ?? 0) > 1;
          return (
            <li key={id} className={id === selected ? "selected" : ""}>
              <a href={href(["threads", threadId], { tab: "history", checkpoint: id })}>
                <span className="step">step {String(s.metadata?.step ?? "?")}</span>{" "}
                <span className="source">{String(s.metadata?.source ?? "")}</span>{" "}
                <code>{short(id)}</code> {s.next.length > 0 && <span className="muted">next: {s.next.join(", ")}</span>}{" "}
                {branch && <span className="badge badge-branch">branch from {short(p)}</span>}{" "}
                {id === latest && <span className="badge badge-success">latest</span>}
              </a>
              <Time value={s.created_at} />
            </li>
          );
        })}
      </ol>
      {current && <Checkpoint threadId={threadId} state={current} />}
    </div>
  );
}

function Checkpoint({ threadId, state }: { threadId: string; state: ThreadState }) {
  const [values, setValues] = useState(pretty(state.values));
  const [asNode, setAsNode] = useState("");
  const { run, error, busy, setError } = useAction();
  const writes = Object.keys((state.metadata?.writes as Record<string, unknown> | null) ?? {});
  return (
    <div className="card checkpoint" data-testid="checkpoint">
      <div className="page-head">
        <h3>Checkpoint {short(cid(state))}</h3>
        <button
          className="primary"
          onClick={() => navigate(href(["threads", threadId], { tab: "chat", fork: cid(state) }))}
          title="Start a run from this checkpoint: a new branch"
        >
          Fork from here
        </button>
      </div>
      <h4>Values</h4>
      <JsonTree value={state.values} expanded />
      <h4>Metadata</h4>
      <JsonTree value={state.metadata} />
      <details>
        <summary>Edit state here</summary>
        <JsonEditor label="Values to write" value={values} onChange={setValues} rows={8} />
        <label>
          <span className="label">As node</span>
          <input value={asNode} list="as-nodes" placeholder="node the update comes from (optional)" onChange={(e) => setAsNode(e.target.value)} />
          <datalist id="as-nodes">
            {writes.map((w) => (
              <option key={w} value={w} />
            ))}
          </datalist>
        </label>
        <ErrorBox error={error} />
        <button
          disabled={busy}
          onClick={async () => {
            let parsed: unknown;
            try {
              parsed = parseJson(values, null);
            } catch (e) {
              setError(`Invalid JSON: ${(e as Error).message}`);
              return;
            }
            const done = await run((api) =>
              api.client.threads.updateState(threadId, {
                values: parsed as Record<string, unknown>,
                asNode: asNode || undefined,
                checkpointId: cid(state),
              }),
            );
            const next = (done as { checkpoint?: { checkpoint_id?: string } } | undefined)?.checkpoint?.checkpoint_id;
            if (next) navigate(href(["threads", threadId], { tab: "history", checkpoint: next }));
          }}
        >
          Write state (new checkpoint)
        </button>
      </details>
    </div>
  );
}
