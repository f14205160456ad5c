import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { type Api, type Credentials, describe, loadCredentials, makeApi, saveCredentials, statusOf } from "./api";

type ConsoleContext = {
  api: Api;
  credentials: Credentials | null;
  setCredentials: (c: Credentials | null) => void;
  authPrompt: string | null;
  showAuthPrompt: (reason: string | null) => void;
  /** Report a failed call: 401 asks for credentials; returns the message to show. */
  report: (error: unknown) => string;
};

const Context = createContext<ConsoleContext | null>(null);

export function ConsoleProvider({ children }: { children: ReactNode }) {
  const [credentials, setCredentialsState] = useState(loadCredentials);
  const [authPrompt, showAuthPrompt] = useState<string | null>(null);
  const api = useMemo(() => makeApi(credentials), [credentials]);
  const setCredentials = useCallback((c: Credentials | null) => {
    saveCredentials(c);
    setCredentialsState(c);
  }, []);
  const report = useCallback((error: unknown) => {
    const message = describe(error);
    if (statusOf(error) === 401) showAuthPrompt(message);
    return message;
  }, []);
  const value = useMemo(
    () => ({ api, credentials, setCredentials, authPrompt, showAuthPrompt, report }),
    [api, credentials, setCredentials, authPrompt, report],
  );
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useConsole(): ConsoleContext {
  const value = useContext(Context);
  if (!value) throw new Error("useConsole outside ConsoleProvider");
  return value;
}

export type Loaded<T> = { data: T | undefined; error: string | null; loading: boolean; reload: () => void };

/** Load something through the SDK; reloads when `deps` or the credentials change. */
export function useLoad<T>(load: (api: Api) => Promise<T>, deps: unknown[]): Loaded<T> {
  const { api, report } = useConsole();
  const [state, setState] = useState<{ data: T | undefined; error: string | null; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load(api).then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: undefined, error: report(error), loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, tick, ...deps]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** Run an action through the SDK, reporting its failure; resolves to undefined on failure. */
export function useAction() {
  const { api, report } = useConsole();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = useCallback(
    async <T,>(action: (api: Api) => Promise<T>): Promise<T | undefined> => {
      setBusy(true);
      setError(null);
      try {
        return await action(api);
      } catch (e) {
        setError(report(e));
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    [api, report],
  );
  return { run, error, busy, setError };
}
