import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { view: 'runs' }
  | { view: 'approvals' }
  | { view: 'run'; runId: string }
  | { view: 'diff'; of: 'run' | 'attempt'; id: string }
  | { view: 'workspaces' }
  | { view: 'audit' }
  | { view: 'sessions' };

const ID = '([A-Za-z0-9_]{1,80})';

/** The view a `#/...` fragment names (the runs list for anything else). */
export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#/, '');
  let m: RegExpExecArray | null;
  if ((m = new RegExp(`^/runs/${ID}$`).exec(h))) return { view: 'run', runId: m[1]! };
  if ((m = new RegExp(`^/diff/(run|attempt)/${ID}$`).exec(h))) return { view: 'diff', of: m[1] as 'run' | 'attempt', id: m[2]! };
  if (h === '/approvals') return { view: 'approvals' };
  if (h === '/workspaces') return { view: 'workspaces' };
  if (h === '/audit') return { view: 'audit' };
  if (h === '/sessions') return { view: 'sessions' };
  return { view: 'runs' };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export const href = {
  runs: '#/runs',
  approvals: '#/approvals',
  run: (id: string) => `#/runs/${id}`,
  runDiff: (id: string) => `#/diff/run/${id}`,
  attemptDiff: (id: string) => `#/diff/attempt/${id}`,
  workspaces: '#/workspaces',
  audit: '#/audit',
  sessions: '#/sessions',
};
