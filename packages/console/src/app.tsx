import { useEffect, useState } from 'preact/hooks';
import { api, currentSession, followEvents, onSignedOut, signIn, signOut, type Session } from './api.js';
import { publish, useLive } from './live.js';
import { href, useRoute, type Route } from './router.js';
import type { ConsoleOverview as Overview } from '@sluice/shared-protocol';
import { ApprovalsView } from './views/approvals.js';
import { AuditView } from './views/audit.js';
import { DiffView } from './views/diff.js';
import { RunView } from './views/run.js';
import { RunsView } from './views/runs.js';
import { SessionsView } from './views/sessions.js';
import { WorkspacesView } from './views/workspaces.js';

/** The code from the sign-in link, taken out of the address bar at once so it is not left in history. */
function takeCode(): string | null {
  const m = /^#code=([A-Za-z0-9_-]{16,64})$/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, '', `${location.pathname}${href.runs}`);
  return m[1]!;
}

export function App() {
  const [session, setSession] = useState<Session | null>(currentSession());
  const [status, setStatus] = useState<string | null>(null);
  useEffect(() => onSignedOut((why) => {
    setSession(null);
    setStatus(why);
  }), []);
  useEffect(() => {
    // A link opened where the sign-in page is already shown changes only the fragment: no new page load.
    const redeem = () => {
      const code = takeCode();
      if (!code) return;
      setStatus('Signing in…');
      signIn(code)
        .then((s) => {
          setSession(s);
          setStatus(null);
        })
        .catch((e: Error) => setStatus(e.message));
    };
    redeem();
    addEventListener('hashchange', redeem);
    return () => removeEventListener('hashchange', redeem);
  }, []);
  return session ? <Console session={session} /> : <SignIn status={status} />;
}

function SignIn({ status }: { status: string | null }) {
  return (
    <main class="signin" id="main">
      <h1>Sluice console</h1>
      <p>Sign in with a one-time link. In a terminal on this machine, run:</p>
      <pre class="cmd">sluice ui</pre>
      <p>and open the link it prints. Links work once and for two minutes; reloading this page signs you out.</p>
      {status && <p role="status" class="notice">{status}</p>}
    </main>
  );
}

function Console({ session }: { session: Session }) {
  const route = useRoute();
  const [live, setLive] = useState(false);
  useEffect(() => followEvents(publish, setLive), [session.sessionId]);
  const overview = useLive('nav', () => api<Overview>('GET', '/api/v1/console/overview?limit=1'), (e) => e.type.startsWith('gate.') || e.type.startsWith('step.'));
  const pending = overview.data?.approvals.length ?? 0;
  const link = (to: string, label: string, active: boolean, extra?: string) => (
    <a href={to} aria-current={active ? 'page' : undefined}>
      {label}
      {extra}
    </a>
  );
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <span class="brand">Sluice</span>
        <nav aria-label="Views">
          {link(href.runs, 'Runs', route.view === 'runs' || route.view === 'run' || route.view === 'diff')}
          {link(href.approvals, 'Approvals', route.view === 'approvals', pending > 0 ? ` (${pending})` : '')}
          {link(href.workspaces, 'Workspaces', route.view === 'workspaces')}
          {link(href.audit, 'Audit', route.view === 'audit')}
          {link(href.sessions, 'Sessions', route.view === 'sessions')}
        </nav>
        <span class={live ? 'live on' : 'live'} role="status" aria-label={live ? 'Live updates connected' : 'Live updates reconnecting'}>
          {live ? 'live' : 'reconnecting'}
        </span>
        <span class="who">{session.actor}</span>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      {pending > 0 && route.view !== 'approvals' && (
        <p class="banner" data-testid="pending-banner">
          <a href={href.approvals}>
            {pending} approval{pending === 1 ? '' : 's'} waiting for you
          </a>
        </p>
      )}
      <main id="main" tabIndex={-1}>
        <View route={route} />
      </main>
    </>
  );
}

function View({ route }: { route: Route }) {
  switch (route.view) {
    case 'runs':
      return <RunsView />;
    case 'approvals':
      return <ApprovalsView />;
    case 'run':
      return <RunView runId={route.runId} />;
    case 'diff':
      return <DiffView of={route.of} id={route.id} />;
    case 'workspaces':
      return <WorkspacesView />;
    case 'audit':
      return <AuditView />;
    case 'sessions':
      return <SessionsView />;
  }
}
