import type { StreamMode } from "@langchain/langgraph-sdk";
import { useState } from "react";
import { ErrorBox, JsonEditor, parseJson } from "../ui";
import type { StartOptions } from "./useRunStream";

export const STREAM_MODES: StreamMode[] = ["values", "updates", "messages-tuple", "tasks", "checkpoints", "debug", "custom", "events"];
const STRATEGIES: StartOptions["multitaskStrategy"][] = ["reject", "interrupt", "rollback", "enqueue"];

export type RunSettings = Pick<StartOptions, "streamMode" | "multitaskStrategy">;

/** The input box: a message for chat graphs, JSON (prefilled from the input schema) otherwise. */
export function Composer({
  chat,
  template,
  disabled,
  onSubmit,
  settings,
  onSettings,
}: {
  chat: boolean;
  template: string;
  disabled: boolean;
  onSubmit: (input: Record<string, unknown> | null) => void;
  settings: RunSettings;
  onSettings: (s: RunSettings) => void;
}) {
  const [message, setMessage] = useState("");
  const [json, setJson] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const text = json ?? template;
  const submit = () => {
    setError(null);
    if (chat) {
      if (!message.trim()) return;
      onSubmit({ messages: [{ role: "user", content: message }] });
      setMessage("");
      return;
    }
    try {
      onSubmit((parseJson(text, null) as Record<string, unknown> | null) ?? null);
    } catch (e) {
      setError(`Input is not JSON: ${(e as Error).message}`);
    }
  };
  const toggle = (mode: StreamMode) =>
    onSettings({
      ...settings,
      streamMode: settings.streamMode.includes(mode) ? settings.streamMode.filter((m) => m !== mode) : [...settings.streamMode, mode],
    });
  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {chat ? (
        <div className="row">
          <input
            className="wide"
            placeholder="Message"
            aria-label="Message"
            value={message}
            onChange={(e) => setMessage(e.target.value)}
          />
          <button type="submit" className="primary" disabled={disabled}>
            Send
          </button>
        </div>
      ) : (
        <>
          <JsonEditor label="Input (JSON)" value={text} onChange={setJson} testId="input-json" />
          <div className="row">
            <button type="submit" className="primary" disabled={disabled}>
              Run
            </button>
          </div>
        </>
      )}
      <ErrorBox error={error} />
      <details className="run-settings">
        <summary>
          Stream: {settings.streamMode.join(", ") || "default"} · multitask: {settings.multitaskStrategy}
        </summary>
        <div className="row wrap">
          {STREAM_MODES.map((mode) => (
            <label key={mode} className="check">
              <input type="checkbox" checked={settings.streamMode.includes(mode)} onChange={() => toggle(mode)} /> {mode}
            </label>
          ))}
        </div>
        <label>
          Multitask strategy{" "}
          <select
            value={settings.multitaskStrategy}
            onChange={(e) => onSettings({ ...settings, multitaskStrategy: e.target.value as RunSettings["multitaskStrategy"] })}
          >
            {STRATEGIES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
      </details>
    </form>
  );
}

/** A skeleton input from a JSON schema's properties (defaults where it gives them). */
export function templateFrom(schema: unknown): string {
  const props = (schema as { properties?: Record<string, { default?: unknown; type?: string }> } | null)?.properties;
  if (!props) return "{}";
  const value = Object.fromEntries(
    Object.entries(props).map(([k, p]) => [k, p.default ?? (p.type === "array" ? [] : p.type === "object" ? {} : p.type === "string" ? "" : null)]),
  );
  return JSON.stringify(value, null, 2);
}

/** Resume an interrupt: the answer is JSON when it parses, else the text itself. */
export function ResumeForm({ interrupts, onResume, disabled }: { interrupts: unknown[]; onResume: (value: unknown) => void; disabled: boolean }) {
  const [answer, setAnswer] = useState("");
  return (
    <div className="card interrupt" data-testid="interrupt">
      <h3>Interrupted: waiting for you</h3>
      {interrupts.map((i, n) => (
        <pre key={n} className="payload">
          {JSON.stringify((i as { value?: unknown }).value ?? i, null, 2)}
        </pre>
      ))}
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          let value: unknown = answer;
          try {
            value = JSON.parse(answer);
          } catch {
            // plain text is a string answer
          }
          onResume(value);
          setAnswer("");
        }}
      >
        <input className="wide" aria-label="Resume value" placeholder="Resume with (text or JSON)" value={answer} onChange={(e) => setAnswer(e.target.value)} />
        <button type="submit" className="primary" disabled={disabled}>
          Resume
        </button>
      </form>
    </div>
  );
}
