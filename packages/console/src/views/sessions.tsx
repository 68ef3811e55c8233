import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Head, Loading, Problem, When } from '../components.js';
import { useLive } from '../live.js';
import type { ConsoleSession as ConsoleSessionRow } from '@sluice/shared-protocol';

export function SessionsView() {
  const [error, setError] = useState<Error | null>(null);
  const { data, error: loadError, reload } = useLive('sessions', () => api<{ sessions: ConsoleSessionRow[]; current: string | null }>('GET', '/api/v1/console/sessions'), () => false);
  if (!data) return loadError ? <Problem error={loadError} /> : <Loading what="sessions" />;
  const revoke = (id: string) => api('DELETE', `/api/v1/console/sessions/${id}`).then(reload, setError);
  return (
    <>
      <h1>Console sessions</h1>
      <p class="small">Each sign-in link makes one session. Revoking one signs that page out at its next call; <code>sluice ui revoke &lt;id&gt;</code> does the same.</p>
      <Problem error={error} />
      <div class="scroll">
        <table>
          <Head cols={['Session', 'Signed in', 'Last seen', 'Browser', 'State']} />
          <tbody>
            {data.sessions.map((s) => (
              <tr key={s.sessionId}>
                <td>
                  <code>{s.sessionId}</code>
                  {s.sessionId === data.current && <strong> (this page)</strong>}
                </td>
                <td>
                  <When at={s.createdAt} />
                </td>
                <td>
                  <When at={s.lastSeenAt} />
                </td>
                <td class="small">{s.userAgent}</td>
                <td>
                  {s.revokedAt ? (
                    'revoked'
                  ) : (
                    <button type="button" class="reject" onClick={() => void revoke(s.sessionId)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
