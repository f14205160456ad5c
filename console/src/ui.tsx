// Small shared pieces: status badges, JSON tree and editor, errors, times, tabs.
import { useState, type ReactNode } from "react";
import { JsonView as LiteJsonView, allExpanded, collapseAllNested, darkStyles, defaultStyles } from "react-json-view-lite";
import "react-json-view-lite/dist/index.css";
import { href } from "./router";

export function Badge({ status }: { status: string | null | undefined }) {
  const s = status ?? "unknown";
  return (
    <span className={`badge badge-${s}`} data-testid="status">
      {s}
    </span>
  );
}

export function useDark(): [boolean, (dark: boolean) => void] {
  const initial =
    localStorage.getItem("graphport.console.theme") === "dark" ||
    (localStorage.getItem("graphport.console.theme") === null && window.matchMedia?.("(prefers-color-scheme: dark)").matches);
  const [dark, setDark] = useState<boolean>(initial);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  return [
    dark,
    (value: boolean) => {
      localStorage.setItem("graphport.console.theme", value ? "dark" : "light");
      setDark(value);
    },
  ];
}

export function JsonTree({ value, expanded = false }: { value: unknown; expanded?: boolean }) {
  const dark = document.documentElement.dataset.theme === "dark";
  if (value === null || typeof value !== "object") return <code className="json-scalar">{JSON.stringify(value)}</code>;
  return (
    <div className="json-tree">
      <LiteJsonView
        data={value as object}
        shouldExpandNode={expanded ? allExpanded : collapseAllNested}
        style={dark ? darkStyles : defaultStyles}
      />
    </div>
  );
}

/** A JSON text box: `onValid` gets the parsed value whenever the text parses. */
export function JsonEditor({
  value,
  onChange,
  rows = 6,
  label,
  testId,
}: {
  value: string;
  onChange: (text: string) => void;
  rows?: number;
  label?: string;
  testId?: string;
}) {
  let problem: string | null = null;
  if (value.trim()) {
    try {
      JSON.parse(value);
    } catch (e) {
      problem = (e as Error).message;
    }
  }
  return (
    <label className="json-editor">
      {label && <span className="label">{label}</span>}
      <textarea
        rows={rows}
        spellCheck={false}
        value={value}
        data-testid={testId}
        className={problem ? "invalid" : ""}
        onChange={(e) => onChange(e.target.value)}
      />
      {problem && <span className="hint error-text">{problem}</span>}
    </label>
  );
}

/** Parse a JSON editor's text; empty text is `fallback`. */
export function parseJson(text: string, fallback: unknown = undefined): unknown {
  return text.trim() ? JSON.parse(text) : fallback;
}

export function ErrorBox({ error }: { error: string | null | undefined }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      {error}
    </div>
  );
}

export function Time({ value }: { value: string | null | undefined }) {
  if (!value) return <span className="muted">—</span>;
  const date = new Date(value);
  return <time title={value}>{date.toLocaleString()}</time>;
}

/** The end of an id: ids are time-ordered (UUIDv7, checkpoint ids), so their start repeats. */
export function short(id: string | null | undefined): string {
  return id ? id.slice(-8) : "—";
}

export function Tabs({ tabs, current, base }: { tabs: string[]; current: string; base: (tab: string) => string }) {
  return (
    <nav className="tabs">
      {tabs.map((tab) => (
        <a key={tab} href={base(tab)} className={tab === current ? "active" : ""}>
          {tab}
        </a>
      ))}
    </nav>
  );
}

export function Link({ to, query, children }: { to: string[]; query?: Record<string, string | undefined>; children: ReactNode }) {
  return <a href={href(to, query)}>{children}</a>;
}

export function Loading({ when }: { when: boolean }) {
  return when ? <span className="muted">Loading…</span> : null;
}

export function pretty(value: unknown): string {
  return value === undefined ? "" : JSON.stringify(value, null, 2);
}
