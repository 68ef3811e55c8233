import { api } from '../api.js';
import { GateDecision, Loading, Problem, When } from '../components.js';
import { useLive } from '../live.js';
import { href } from '../router.js';
import type { ConsoleOverview as Overview } from '@sluice/shared-protocol';

export function ApprovalsView() {
  const { data, error } = useLive('approvals', () => api<Overview>('GET', '/api/v1/console/overview?limit=1'), (e) => e.type.startsWith('gate.') || e.type.startsWith('step.'));
  if (!data) return error ? <Problem error={error} /> : <Loading what="approvals" />;
  return (
    <>
      <h1>Approvals waiting ({data.approvals.length})</h1>
      {data.approvals.length === 0 && <p>Nothing is waiting for you.</p>}
      {data.approvals.map((g) => (
        <section class="card" key={g.gateId} aria-labelledby={`g-${g.gateId}`}>
          <h2 id={`g-${g.gateId}`}>
            <a href={href.run(g.runId)}>{g.runTitle || g.runId}</a> <span class="muted small">({g.workspaceId})</span>
          </h2>
          <p class="small">
            Gate <code>{g.gateId}</code> · waiting since <When at={g.createdAt} /> · {g.candidates.length} attempt{g.candidates.length === 1 ? '' : 's'} passed ·{' '}
            {g.candidates.length === 1 && <a href={href.attemptDiff(g.candidates[0]!)}>view diff</a>}
          </p>
          <GateDecision gate={g} />
        </section>
      ))}
    </>
  );
}
