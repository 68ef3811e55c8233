import { useEffect, useState } from 'preact/hooks';
import type { Event } from '@sluice/shared-protocol';
import { ApiError } from './api.js';

const listeners = new Set<(e: Event) => void>();

/** Hand one ledger event to every view that listens. */
export function publish(e: Event): void {
  for (const fn of listeners) fn(e);
}

export interface Live<T> {
  data: T | null;
  error: ApiError | null;
  reload: () => void;
}

/**
 * Load once, then again whenever a relevant ledger event arrives (never on a timer). Loads do not overlap: events
 * during a load cause one more load after it. `key` names what is loaded; a new key starts over.
 */
export function useLive<T>(key: string, load: () => Promise<T>, relevant: (e: Event) => boolean): Live<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [reload, setReload] = useState<() => void>(() => () => undefined);
  useEffect(() => {
    let alive = true;
    let busy = false;
    let again = false;
    setData(null);
    setError(null);
    const go = () => {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      load()
        .then((d) => {
          if (alive) {
            setData(d);
            setError(null);
          }
        })
        .catch((e: unknown) => alive && setError(e instanceof ApiError ? e : new ApiError(0, 'ERROR', String(e))))
        .finally(() => {
          busy = false;
          if (again && alive) {
            again = false;
            go();
          }
        });
    };
    const fn = (e: Event) => {
      if (relevant(e)) go();
    };
    listeners.add(fn);
    setReload(() => go);
    go();
    return () => {
      alive = false;
      listeners.delete(fn);
    };
  }, [key]);
  return { data, error, reload };
}
