// One run's live stream through the SDK: start (runs.stream), rejoin (runs.joinStream with
// Last-Event-ID), cancel; keeps the event log, the streamed messages and the running nodes.
import type { StreamMode } from "@langchain/langgraph-sdk";
import { useCallback, useEffect, useRef, useState } from "react";
import { useConsole } from "../context";

export type LogEvent = { id?: string; event: string; data: unknown; time: Date };
export type Message = { id?: string; type: string; content: unknown; tool_calls?: unknown[]; name?: string };
export type RunInfo = { runId?: string; status: string };

export type StartOptions = {
  assistantId: string;
  input?: Record<string, unknown> | null;
  command?: { resume?: unknown };
  streamMode: StreamMode[];
  multitaskStrategy: "reject" | "interrupt" | "rollback" | "enqueue";
  checkpointId?: string;
};

const lastEventKey = (runId: string) => `graphport.console.last-event.${runId}`;

function upsert(messages: Message[], incoming: Message, append: boolean): Message[] {
  const at = incoming.id ? messages.findIndex((m) => m.id === incoming.id) : -1;
  if (at < 0) return [...messages, incoming];
  const next = [...messages];
  const old = next[at];
  const content =
    append && typeof old.content === "string" && typeof incoming.content === "string" ? old.content + incoming.content : incoming.content;
  next[at] = { ...old, ...incoming, content };
  return next;
}

/** `onChange`: the thread changed (a run started or ended). */
export function useRunStream(threadId: string, onChange: () => void) {
  const { api, report } = useConsole();
  const [events, setEvents] = useState<LogEvent[]>([]);
  const [run, setRun] = useState<RunInfo | null>(null);
  const [messages, setMessages] = useState<Message[] | null>(null);
  const [values, setValues] = useState<Record<string, unknown> | null>(null);
  const [active, setActive] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState(false);
  const abort = useRef<AbortController | null>(null);
  const runId = useRef<string | undefined>(undefined);
  const settled = useRef(onChange);
  settled.current = onChange;

  useEffect(() => () => abort.current?.abort(), []);

  const handle = useCallback((ev: LogEvent) => {
    setEvents((list) => [...list.slice(-499), ev]);
    if (ev.id && runId.current) sessionStorage.setItem(lastEventKey(runId.current), ev.id);
    const [name] = ev.event.split("|");
    const data = ev.data as Record<string, unknown> | unknown[] | null;
    if (name === "metadata" && data && !Array.isArray(data) && typeof data.run_id === "string") {
      runId.current = data.run_id;
      setRun((r) => ({ ...r, runId: data.run_id as string, status: r?.status ?? "running" }));
    } else if (name === "values" && data && !Array.isArray(data) && ev.event === "values") {
      setValues(data);
      if (Array.isArray(data.messages)) setMessages(data.messages as Message[]);
    } else if (name === "messages" && Array.isArray(data)) {
      const [chunk, meta] = data as [Message, { langgraph_node?: string }];
      setMessages((list) => upsert(list ?? [], { ...chunk, type: chunk.type?.replace(/Chunk$/i, "") ?? "ai" }, true));
      if (meta?.langgraph_node) setActive(new Set([meta.langgraph_node]));
    } else if ((name === "messages/partial" || name === "messages/complete") && Array.isArray(data)) {
      setMessages((list) => (data as Message[]).reduce((acc, m) => upsert(acc, m, false), list ?? []));
    } else if (name === "tasks" && data && !Array.isArray(data) && typeof data.name === "string") {
      const task = data.name;
      const done = "result" in data || "error" in data;
      setActive((s) => {
        const next = new Set(s);
        if (done) next.delete(task);
        else next.add(task);
        return next;
      });
    } else if (name === "updates" && data && !Array.isArray(data)) {
      setActive(new Set(Object.keys(data).filter((k) => !k.startsWith("__"))));
    } else if (name === "error") {
      const detail = data as { error?: string; message?: string } | null;
      setError(`${detail?.error ?? "Error"}: ${detail?.message ?? JSON.stringify(data)}`);
    }
  }, []);

  const consume = useCallback(
    async (stream: AsyncIterable<{ id?: string; event: string; data: unknown }>, controller: AbortController) => {
      try {
        for await (const part of stream) handle({ ...part, time: new Date() });
      } catch (e) {
        if (!controller.signal.aborted) setError(report(e));
      }
      if (abort.current !== controller) return; // superseded by another start or rejoin
      abort.current = null;
      setLive(false);
      setActive(new Set());
      const id = runId.current;
      if (id) {
        try {
          const final = await api.client.runs.get(threadId, id);
          setRun({ runId: id, status: final.status });
        } catch (e) {
          setRun({ runId: id, status: "unknown" });
          report(e);
        }
      }
      settled.current();
    },
    [api, threadId, handle, report],
  );

  const reset = () => {
    abort.current?.abort();
    setEvents([]);
    setError(null);
    setMessages(null);
    setValues(null);
    setLive(true);
    runId.current = undefined;
  };

  const start = useCallback(
    (options: StartOptions) => {
      reset();
      const controller = new AbortController();
      abort.current = controller;
      setRun({ status: "pending" });
      const stream = api.client.runs.stream(threadId, options.assistantId, {
        input: options.input,
        command: options.command,
        streamMode: options.streamMode,
        multitaskStrategy: options.multitaskStrategy,
        checkpointId: options.checkpointId,
        streamResumable: true,
        signal: controller.signal,
        onRunCreated: ({ run_id }) => {
          runId.current = run_id;
          setRun({ runId: run_id, status: "running" });
          settled.current(); // the thread is busy now
        },
      });
      return consume(stream as AsyncIterable<{ id?: string; event: string; data: unknown }>, controller);
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [api, threadId, consume],
  );

  /** Follow a run already in flight: from the last event this browser saw, else from its start. */
  const rejoin = useCallback(
    (id: string, streamMode?: StreamMode[]) => {
      reset();
      const controller = new AbortController();
      abort.current = controller;
      runId.current = id;
      setRun({ runId: id, status: "running" });
      const lastEventId = sessionStorage.getItem(lastEventKey(id)) ?? "-";
      const stream = api.client.runs.joinStream(threadId, id, { signal: controller.signal, lastEventId, streamMode });
      return consume(stream, controller);
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [api, threadId, consume],
  );

  const cancel = useCallback(async () => {
    const id = runId.current;
    if (!id) return;
    try {
      await api.client.runs.cancel(threadId, id);
    } catch (e) {
      setError(report(e));
    }
  }, [api, threadId, report]);

  return { events, run, messages, values, active, error, start, rejoin, cancel, live };
}
