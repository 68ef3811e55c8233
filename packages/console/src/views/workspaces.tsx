import type { WorkspaceSummary } from '@sluice/shared-protocol';
import { api } from '../api.js';
import { Loading, Problem } from '../components.js';
import { useLive } from '../live.js';

export function WorkspacesView() {
  const { data, error } = useLive('workspaces', () => api<{ workspaces: WorkspaceSummary[] }>('GET', '/api/v1/workspaces'), () => false);
  if (!data) return error ? <Problem error={error} /> : <Loading what="workspaces" />;
  return (
    <>
      <h1>Workspaces</h1>
      {data.workspaces.length === 0 && <p>No workspaces. Add one with <code>sluice workspace add &lt;path&gt;</code>.</p>}
      {data.workspaces.map((w) => (
        <section class="card" key={w.workspaceId} aria-labelledby={`w-${w.workspaceId}`}>
          <h2 id={`w-${w.workspaceId}`}>{w.name}</h2>
          <dl class="facts">
            <dt>Id</dt>
            <dd>
              <code>{w.workspaceId}</code>
            </dd>
            <dt>Executors</dt>
            <dd>{w.executors.join(', ') || 'none'}</dd>
            <dt>Validations</dt>
            <dd>{w.validations.join(', ') || 'none'}</dd>
            <dt>Approvals</dt>
            <dd>
              {w.approvalPolicy === 'always' ? 'every step waits for approval' : 'none'}
              {w.remoteApprovals ? '; planners may decide too' : '; local operators only'}
            </dd>
          </dl>
        </section>
      ))}
    </>
  );
}
