import { useState } from "react";
import { JsonTree } from "../ui";
import type { LogEvent } from "./useRunStream";

/** The run's events as they arrive: id, name, time; click one for its payload. */
export function EventLog({ events }: { events: LogEvent[] }) {
  const [open, setOpen] = useState<number | null>(null);
  return (
    <div className="event-log" data-testid="event-log">
      <h3>Events ({events.length})</h3>
      {events.length === 0 && <p className="muted">Start or rejoin a run to see its events.</p>}
      <ol>
        {events.map((ev, i) => (
          <li key={i} className={open === i ? "open" : ""}>
            <button className="event-row" onClick={() => setOpen(open === i ? null : i)}>
              <span className="event-name">{ev.event}</span>
              <span className="event-id">{ev.id ?? ""}</span>
              <time>{ev.time.toLocaleTimeString(undefined, { hour12: false })}.{String(ev.time.getMilliseconds()).padStart(3, "0")}</time>
            </button>
            {open === i && <JsonTree value={ev.data} expanded />}
          </li>
        ))}
      </ol>
    </div>
  );
}
