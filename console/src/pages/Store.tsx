import { useState } from "react";
import { useAction, useLoad } from "../context";
import { href, navigate, type Route } from "../router";
import { ErrorBox, JsonTree, Loading, Time } from "../ui";

/** The long-term store: namespaces, the items under one, and search (semantic when the
 * server has an index). The namespace is in the URL (#/store?ns=memories/alice). */
export function Store({ route }: { route: Route }) {
  const ns = route.query.get("ns") ?? "";
  const query = route.query.get("q") ?? "";
  const namespace = ns ? ns.split("/") : [];
  const [text, setText] = useState(query);
  const namespaces = useLoad((api) => api.client.store.listNamespaces({ limit: 100 }), []);
  const items = useLoad((api) => api.client.store.searchItems(namespace, { limit: 50, query: query || undefined }), [ns, query]);
  const { run, error } = useAction();
  return (
    <section>
      <h1>Store</h1>
      <ErrorBox error={namespaces.error ?? error} />
      <div className="store-layout">
        <nav className="namespaces" data-testid="namespaces">
          <h3>Namespaces</h3>
          <Loading when={namespaces.loading} />
          <a href={href(["store"])} className={ns === "" ? "active" : ""}>
            (all)
          </a>
          {(namespaces.data?.namespaces ?? []).map((n) => (
            <a key={n.join("/")} href={href(["store"], { ns: n.join("/") })} className={n.join("/") === ns ? "active" : ""}>
              {n.join(" / ")}
            </a>
          ))}
        </nav>
        <div>
          <form
            className="row filters"
            onSubmit={(e) => {
              e.preventDefault();
              navigate(href(["store"], { ns, q: text }));
            }}
          >
            <input className="wide" placeholder="Search items (natural language when the store has an index)" value={text} onChange={(e) => setText(e.target.value)} />
            <button type="submit">Search</button>
          </form>
          <ErrorBox error={items.error} />
          <table data-testid="items">
            <thead>
              <tr>
                <th>Namespace</th>
                <th>Key</th>
                <th>Value</th>
                <th>Updated</th>
                {query && <th>Score</th>}
                <th />
              </tr>
            </thead>
            <tbody>
              {(items.data?.items ?? []).map((item) => (
                <tr key={`${item.namespace.join("/")}/${item.key}`}>
                  <td>{item.namespace.join(" / ")}</td>
                  <td>
                    <code>{item.key}</code>
                  </td>
                  <td>
                    <JsonTree value={item.value} expanded />
                  </td>
                  <td>
                    <Time value={item.updatedAt as unknown as string} />
                  </td>
                  {query && <td>{(item as { score?: number }).score?.toFixed(3) ?? ""}</td>}
                  <td>
                    <button
                      className="danger"
                      onClick={async () => {
                        await run((api) => api.client.store.deleteItem(item.namespace, item.key));
                        items.reload();
                        namespaces.reload();
                      }}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </section>
  );
}
