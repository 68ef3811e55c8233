import type { ConsoleWorkspaces as WorkspacesAnswer } from '@sluice/shared-protocol';
import { api } from '../api.js';
import { Head, Loading, Problem, State, When } from '../components.js';
import { useLive } from '../live.js';

export function WorkspacesView() {
  const { data, error, reload } = useLive('workspaces', () => api<WorkspacesAnswer>('GET', '/api/v1/console/workspaces'), () => false);
  if (!data) return error ? <Problem error={error} /> : <Loading what="workspaces (running each executor's preflight)" />;
  return (
    <>
      <h1>Workspaces</h1>
      <p>
        <button type="button" onClick={reload}>
          Check again
        </button>
      </p>
      <section class="card" aria-labelledby="connector-h">
        <h2 id="connector-h">Connector</h2>
        {data.connectors.length === 0 && <p>No connector has reported to this daemon since it started.</p>}
        {data.connectors.map((c) => (
          <dl class="facts" key={c.instanceId} data-connector={c.instanceId}>
            <dt>Instance</dt>
            <dd>
              <code>{c.instanceId}</code>
            </dd>
            <dt>Relay</dt>
            <dd>{c.relay}</dd>
            <dt>State</dt>
            <dd>
              <State value={c.stoppedAt ? 'stopped' : c.connected ? 'connected' : 'disconnected'} /> {c.since && <>since <When at={c.since} /></>}
              {c.nextRetryAt && <> · retrying at <When at={c.nextRetryAt} /></>}
            </dd>
            <dt>Shares</dt>
            <dd>{c.shares.join(', ') || 'none'}</dd>
            {c.lastError && (
              <>
                <dt>Last error</dt>
                <dd class="error-inline">
                  {c.lastError.code}: {c.lastError.message}
                </dd>
              </>
            )}
          </dl>
        ))}
      </section>
      {data.workspaces.length === 0 && <p>No workspaces. Add one with <code>sluice workspace add &lt;path&gt;</code>.</p>}
      {data.workspaces.map((w) => (
        <section class="card" key={w.workspaceId} aria-labelledby={`w-${w.workspaceId}`} data-workspace={w.workspaceId}>
          <h2 id={`w-${w.workspaceId}`}>
            {w.name} <span class="small">{w.sharedBy.length > 0 ? <State value="shared" /> : <State value="not_shared" />}</span>
          </h2>
          <dl class="facts">
            <dt>Id</dt>
            <dd>
              <code>{w.workspaceId}</code>
            </dd>
            <dt>Validations</dt>
            <dd>{w.validations.join(', ') || 'none'}</dd>
            <dt>Approvals</dt>
            <dd>
              {w.approvalPolicy === 'always' ? 'every step waits for approval' : 'none'}
              {w.remoteApprovals ? '; planners may decide too' : '; local operators only'}
            </dd>
          </dl>
          <div class="scroll">
            <table>
              <caption>Executors</caption>
              <Head cols={['Name', 'Adapter', 'Preflight', 'Program']} />
              <tbody>
                {w.executorStatus.map((e) => (
                  <tr key={e.name}>
                    <td>
                      <code>{e.name}</code>
                    </td>
                    <td>{e.adapter}</td>
                    <td>{e.ok ? <State value="ready" /> : <span class="error-inline">{e.code}: {e.message}</span>}</td>
                    <td class="small">
                      {e.binaryPath ?? '—'} {e.version ?? ''}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
    </>
  );
}
