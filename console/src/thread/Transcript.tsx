import type { Message } from "./useRunStream";

function text(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content.map((block) => (typeof block === "string" ? block : ((block as { text?: string }).text ?? ""))).join("");
  return JSON.stringify(content);
}

const ROLES: Record<string, string> = { human: "You", user: "You", ai: "Assistant", assistant: "Assistant", tool: "Tool", system: "System" };

/** The chat transcript of message-shaped state; tokens appear as they stream. */
export function Transcript({ messages, streaming }: { messages: Message[]; streaming: boolean }) {
  return (
    <div className="transcript" data-testid="transcript">
      {messages.length === 0 && <p className="muted">No messages yet.</p>}
      {messages.map((m, i) => (
        <div key={m.id ?? i} className={`message message-${m.type}`} data-testid={`message-${m.type}`}>
          <div className="role">{ROLES[m.type] ?? m.type}{m.name ? ` (${m.name})` : ""}</div>
          <div className="content">
            {text(m.content)}
            {streaming && i === messages.length - 1 && m.type === "ai" && <span className="cursor">▍</span>}
          </div>
          {m.tool_calls && m.tool_calls.length > 0 && <pre className="tool-calls">{JSON.stringify(m.tool_calls, null, 2)}</pre>}
        </div>
      ))}
    </div>
  );
}
