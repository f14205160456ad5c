import { useState } from "react";
import { useConsole } from "../context";

/** Asks once for the header this server authenticates with; kept in localStorage. */
export function AuthDialog({ reason }: { reason: string }) {
  const { credentials, setCredentials, showAuthPrompt } = useConsole();
  const [header, setHeader] = useState(credentials?.header ?? "x-api-key");
  const [value, setValue] = useState(credentials?.value ?? "");
  const save = () => {
    const name = header.trim().toLowerCase();
    setCredentials(value && name ? { header: name, value: name === "authorization" && !/\s/.test(value) ? `Bearer ${value}` : value } : null);
    showAuthPrompt(null);
  };
  return (
    <div className="modal-backdrop">
      <form
        className="modal"
        role="dialog"
        aria-label="Credentials"
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
      >
        <h2>Credentials</h2>
        {reason && <p className="error">{reason}</p>}
        <p className="muted">
          Sent as a header with every API call and kept in this browser only. A server started with <code>--api-key</code>{" "}
          reads <code>x-api-key</code>; custom auth usually reads <code>authorization</code>.
        </p>
        <label>
          <span className="label">Header</span>
          <input value={header} onChange={(e) => setHeader(e.target.value)} list="auth-headers" />
          <datalist id="auth-headers">
            <option value="x-api-key" />
            <option value="authorization" />
          </datalist>
        </label>
        <label>
          <span className="label">Value</span>
          <input
            type="password"
            autoFocus
            placeholder="API key or token"
            aria-label="API key or token"
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
        </label>
        <div className="row">
          <button type="submit" className="primary">
            Save
          </button>
          <button type="button" onClick={() => showAuthPrompt(null)}>
            Cancel
          </button>
          {credentials && (
            <button
              type="button"
              className="danger"
              onClick={() => {
                setCredentials(null);
                showAuthPrompt(null);
              }}
            >
              Forget
            </button>
          )}
        </div>
      </form>
    </div>
  );
}
