// Every API call of the console goes through the official JS SDK (`@langchain/langgraph-sdk`).
import { Client } from "@langchain/langgraph-sdk";
import { BaseClient, type ClientConfig } from "@langchain/langgraph-sdk/client";

/** The server's API: the page's origin plus the mount prefix, i.e. the parent of the
 * `<base href=".../console/">` the server puts in index.html. */
export const API_URL = new URL("..", document.baseURI).href.replace(/\/$/, "");

export type Credentials = { header: string; value: string };

const STORAGE_KEY = "graphport.console.credentials";

export function loadCredentials(): Credentials | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Credentials) : null;
  } catch {
    return null;
  }
}

export function saveCredentials(credentials: Credentials | null): void {
  if (credentials) localStorage.setItem(STORAGE_KEY, JSON.stringify(credentials));
  else localStorage.removeItem(STORAGE_KEY);
}

/** Routes the SDK has no method for (server information), on the SDK's own transport. */
class SystemClient extends BaseClient {
  info(): Promise<Record<string, unknown>> {
    return this.fetch("/info");
  }
  metrics(): Promise<Record<string, unknown>> {
    return this.fetch("/metrics", { params: { format: "json" }, signal: undefined });
  }
}

export type Api = { client: Client; system: SystemClient };

export function makeApi(credentials: Credentials | null): Api {
  const config: ClientConfig = {
    apiUrl: API_URL,
    // The SDK would otherwise read LANGGRAPH_API_KEY-like settings; the user's header is all.
    apiKey: null,
    defaultHeaders: credentials ? { [credentials.header]: credentials.value } : {},
    callerOptions: { maxRetries: 1 },
  };
  return { client: new Client(config), system: new SystemClient(config) };
}

/** The HTTP status of an SDK error, if it was one. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}

/** What to tell the user about a failed call. */
export function describe(error: unknown): string {
  const status = statusOf(error);
  const text = error instanceof Error ? error.message : String(error);
  if (status === 401) return "401 Unauthorized: this server needs credentials. Enter your API key or token.";
  if (status === 403) return "403 Forbidden: your credentials are not allowed to do this.";
  if (status === 404) return `404 Not found: it does not exist (any more), or this route is switched off. (${text})`;
  return text;
}
