import { AuthDialog } from "./components/AuthDialog";
import { useConsole } from "./context";
import { Assistants } from "./pages/Assistants";
import { Crons } from "./pages/Crons";
import { Server } from "./pages/Server";
import { Store } from "./pages/Store";
import { Thread } from "./pages/Thread";
import { Threads } from "./pages/Threads";
import { useRoute } from "./router";
import { useDark } from "./ui";

const SECTIONS = [
  ["assistants", "Assistants"],
  ["threads", "Threads"],
  ["crons", "Crons"],
  ["store", "Store"],
  ["server", "Server"],
] as const;

export function App() {
  const route = useRoute();
  const [dark, setDark] = useDark();
  const { credentials, showAuthPrompt, authPrompt } = useConsole();
  const [section = "assistants", id] = route.parts;
  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href="#/assistants">
          Graphport <span className="muted">console</span>
        </a>
        <nav className="sections">
          {SECTIONS.map(([key, label]) => (
            <a key={key} href={`#/${key}`} className={section === key ? "active" : ""}>
              {label}
            </a>
          ))}
        </nav>
        <span className="spacer" />
        <button className="ghost" onClick={() => showAuthPrompt("")} title="API key or token sent with every call">
          {credentials ? `🔑 ${credentials.header}` : "Credentials"}
        </button>
        <button className="ghost" onClick={() => setDark(!dark)} aria-label="Toggle dark mode">
          {dark ? "☀ Light" : "☾ Dark"}
        </button>
      </header>
      <main>
        {section === "assistants" && <Assistants id={id} route={route} />}
        {section === "threads" && !id && <Threads route={route} />}
        {section === "threads" && id && <Thread threadId={id} route={route} />}
        {section === "crons" && <Crons />}
        {section === "store" && <Store route={route} />}
        {section === "server" && <Server />}
      </main>
      {authPrompt !== null && <AuthDialog reason={authPrompt} />}
    </div>
  );
}
