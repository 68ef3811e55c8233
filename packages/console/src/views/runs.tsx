import { api } from '../api.js';
import { Head, Loading, Problem, State } from '../components.js';
import { useLive } from '../live.js';
import { href } from '../router.js';
import type { ConsoleOverview as Overview } from '@sluice/shared-protocol';

export function RunsView() {
  const { data, error } = useLive('runs', () => api<Overview>('GET', '/api/v1/console/overview?limit=100'), () => true);
  if (!data) return error ? <Problem error={error} /> : <Loading what="runs" />;
  const byWorkspace = new Map<string, Overview['runs']>();
  for (const r of data.runs) byWorkspace.set(r.workspaceId, [...(byWorkspace.get(r.workspaceId) ?? []), r]);
  return (
    <>
      <h1>Runs</h1>
      {data.runs.length === 0 && <p>No runs yet. A planner opens one with <code>runs.open</code>.</p>}
      {[...byWorkspace].map(([ws, runs]) => (
        <section class="card" aria-labelledby={`ws-${ws}`} key={ws}>
          <h2 id={`ws-${ws}`}>Workspace {ws}</h2>
          <div class="scroll">
            <table class="runs">
              <Head cols={['Run', 'Opened by', 'State', 'Steps', 'Changes', 'Waiting']} />
              <tbody>
                {runs.map((r) => (
                  <tr key={r.runId} data-run={r.runId}>
                    <td>
                      <a href={href.run(r.runId)}>{r.title || r.runId}</a>
                      <div class="muted small">{r.runId}</div>
                    </td>
                    <td>{r.createdBy}</td>
                    <td>
                      <State value={r.state} />
                    </td>
                    <td>
                      {r.steps.length === 0 ? <span class="muted">none</span> : r.steps.map((s) => <State key={s.stepId} value={s.state} />)}
                    </td>
                    <td>{r.changedFiles} file{r.changedFiles === 1 ? '' : 's'}</td>
                    <td>{r.pendingGates > 0 ? <strong>{r.pendingGates} gate{r.pendingGates === 1 ? '' : 's'}</strong> : <span class="muted">—</span>}</td>
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
