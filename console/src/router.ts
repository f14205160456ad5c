// Hash routing: every page has a URL (#/threads/<id>?tab=history), the back button works,
// and the server only ever has to serve index.html.
import { useSyncExternalStore } from "react";

export type Route = { parts: string[]; query: URLSearchParams };

function parse(hash: string): Route {
  const [path, search = ""] = hash.replace(/^#/, "").split("?", 2);
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(search) };
}

function subscribe(callback: () => void): () => void {
  window.addEventListener("hashchange", callback);
  return () => window.removeEventListener("hashchange", callback);
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parse(hash);
}

/** A link target: path segments (encoded) and query parameters (empty ones dropped). */
export function href(parts: string[], query: Record<string, string | undefined | null> = {}): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) search.set(k, v);
  const qs = search.toString();
  return `#/${parts.map(encodeURIComponent).join("/")}${qs ? `?${qs}` : ""}`;
}

export function navigate(target: string): void {
  window.location.hash = target.replace(/^#/, "");
}
