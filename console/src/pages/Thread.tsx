import type { Interrupt } from "@langchain/langgraph-sdk";
import { useEffect, useRef, useState } from "react";
import { GraphView } from "../components/GraphView";
import { useAction, useLoad } from "../context";
import { href, navigate, type Route } from "../router";
import { History } from "../thread/History";
import { Runs } from "../thread/Runs";
import { Transcript } from "../thread/Transcript";
import { Composer, ResumeForm, templateFrom, type RunSettings } from "../thread/Composer";
import { EventLog } from "../thread/EventLog";
import { useRunStream, type Message } from "../thread/useRunStream";
import { Badge, ErrorBox, JsonTree, Tabs, Time, short } from "../ui";

const DEFAULT_SETTINGS: RunSettings = { streamMode: ["values", "messages-tuple", "tasks"], multitaskStrategy: "reject" };

export function Thread({ threadId, route }: { threadId: string; route: Route }) {
  const tab = route.query.get("tab") ?? "chat";
  const fork = route.query.get("fork");
  const [version, setVersion] = useState(0);
  const thread = useLoad((api) => api.client.threads.get(threadId), [threadId, version]);
  const assistants = useLoad((api) => api.client.assistants.search({ limit: 100 }), []);
  const t = thread.data;
  const meta = (t?.metadata ?? {}) as Record<string, unknown>;
  const systemFor = (graph: unknown) =>
    (assistants.data ?? []).find((a) => a.graph_id === graph && a.metadata?.created_by === "system")?.assistant_id;
  const assistantId =
    route.query.get("assistant") ?? (typeof meta.assistant_id === "string" ? meta.assistant_id : undefined) ?? systemFor(meta.graph_id);
  const schemas = useLoad((api) => (assistantId ? api.client.assistants.getSchemas(assistantId) : Promise.resolve(null)), [assistantId]);
  const stream = useRunStream(threadId, () => setVersion((v) => v + 1));
  const [settings, setSettings] = useState(DEFAULT_SETTINGS);
  const { run: act, error: actionError } = useAction();

  // A run already in flight when the page opens (or after a reload): follow it.
  const rejoined = useRef(false);
  useEffect(() => {
    if (!t || rejoined.current || stream.live) return;
    rejoined.current = true;
    if (t.status !== "busy") return;
    act((api) => api.client.runs.list(threadId, { status: "running", limit: 1 })).then((runs) => {
      if (runs?.[0]) stream.rejoin(runs[0].run_id, settings.streamMode);
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [t]);

  const values = (stream.values ?? t?.values ?? {}) as Record<string, unknown>;
  const inputSchema = schemas.data?.input_schema as { properties?: Record<string, unknown> } | undefined;
  const chat = Boolean(inputSchema?.properties?.messages) || Array.isArray(values.messages);
  const messages = stream.messages ?? ((Array.isArray(values.messages) ? values.messages : []) as Message[]);
  const interrupts = Object.values((t?.interrupts ?? {}) as Record<string, Interrupt[]>).flat();
  const waiting = !stream.live && t?.status === "interrupted" && interrupts.length > 0;

  const start = (input: Record<string, unknown> | null, command?: { resume: unknown }) => {
    if (!assistantId) return;
    if (fork) navigate(href(["threads", threadId], { tab: "chat", assistant: route.query.get("assistant") }));
    void stream.start({ assistantId, input, command, checkpointId: fork ?? undefined, ...settings });
  };

  return (
    <section>
      <div className="page-head">
        <h1>
          <a href="#/threads">Threads</a> / <code>{short(threadId)}</code>
        </h1>
        <span className="label-inline">
          Thread <Badge status={t?.status} />
        </span>
        <label>
          Assistant{" "}
          <select
            value={assistantId ?? ""}
            onChange={(e) => navigate(href(["threads", threadId], { tab, assistant: e.target.value }))}
          >
            <option value="">choose…</option>
            {(assistants.data ?? []).map((a) => (
              <option key={a.assistant_id} value={a.assistant_id}>
                {a.name} ({a.graph_id})
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBox error={thread.error ?? actionError} />
      <div className="run-bar" data-testid="run-bar">
        {stream.run ? (
          <>
            Run <code>{short(stream.run.runId)}</code> <Badge status={stream.run.status} />
          </>
        ) : (
          <span className="muted">No run started here yet.</span>
        )}
        {stream.live && stream.run?.runId && (
          <button className="danger" onClick={() => void stream.cancel()}>
            Cancel run
          </button>
        )}
        {!stream.live && t?.status === "busy" && (
          <button
            onClick={() =>
              act((api) => api.client.runs.list(threadId, { status: "running", limit: 1 })).then(
                (runs) => runs?.[0] && stream.rejoin(runs[0].run_id, settings.streamMode),
              )
            }
          >
            Rejoin running run
          </button>
        )}
        <span className="muted">
          updated <Time value={t?.updated_at} />
        </span>
      </div>
      <ErrorBox error={stream.error} />
      <div className="thread-layout">
        <div className="main-col">
          <Tabs
            tabs={["chat", "state", "history", "runs"]}
            current={tab}
            base={(x) => href(["threads", threadId], { tab: x, assistant: route.query.get("assistant") })}
          />
          {tab === "chat" && (
            <>
              {fork && (
                <div className="notice" data-testid="fork-notice">
                  Forking from checkpoint <code>{short(fork)}</code>: the next run starts there, on a new branch.{" "}
                  <a href={href(["threads", threadId], { tab: "chat" })}>Don't fork</a>
                </div>
              )}
              {chat ? <Transcript messages={messages} streaming={stream.live} /> : <JsonTree value={values} expanded />}
              {waiting && <ResumeForm interrupts={interrupts} disabled={!assistantId} onResume={(value) => start(null, { resume: value })} />}
              {!assistantId && <p className="error">Choose an assistant to run this thread.</p>}
              <Composer
                chat={chat}
                template={templateFrom(inputSchema)}
                disabled={!assistantId || stream.live}
                onSubmit={(input) => start(input)}
                settings={settings}
                onSettings={setSettings}
              />
            </>
          )}
          {tab === "state" && (
            <div className="card">
              <h3>Values</h3>
              <JsonTree value={values} expanded />
              <h3>Metadata</h3>
              <JsonTree value={t?.metadata} expanded />
              {t?.error != null && (
                <>
                  <h3>Error</h3>
                  <JsonTree value={t.error} expanded />
                </>
              )}
            </div>
          )}
          {tab === "history" && <History threadId={threadId} selected={route.query.get("checkpoint")} version={version} />}
          {tab === "runs" && <Runs threadId={threadId} selected={route.query.get("run")} version={version} error={t?.error} />}
        </div>
        <aside className="side-col">
          {assistantId && <GraphView assistantId={assistantId} active={stream.active} />}
          <EventLog events={stream.events} />
        </aside>
      </div>
    </section>
  );
}
