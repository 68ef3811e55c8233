import { useState } from 'preact/hooks';
import type { ConsoleAudit as AuditAnswer } from '@sluice/shared-protocol';
import { api } from '../api.js';
import { Head, Loading, Problem, When } from '../components.js';
import { useLive } from '../live.js';

export function AuditView() {
  const [filter, setFilter] = useState({ action: '', actor: '', outcome: '' });
  const [draft, setDraft] = useState(filter);
  const query = new URLSearchParams({ limit: '200', ...Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== '')) }).toString();
  // Every ledger change writes an audit row, so any event is a reason to look again.
  const { data, error } = useLive(`audit:${query}`, () => api<AuditAnswer>('GET', `/api/v1/console/audit?${query}`), () => true);
  const field = (name: 'action' | 'actor', label: string, hint: string) => (
    <p>
      <label for={`audit-${name}`}>{label}</label>
      <input id={`audit-${name}`} value={draft[name]} placeholder={hint} onInput={(e) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value })} />
    </p>
  );
  return (
    <>
      <h1>Audit</h1>
      {data && (
        <p class={data.chain.ok ? 'notice' : 'error'} role="status" data-testid="chain">
          {data.chain.ok ? `Audit chain verified: all ${data.chain.rows} rows intact.` : `Audit chain BROKEN: ${data.chain.problems.map((p) => `row ${p.seq}: ${p.reason}`).join('; ')}`}
        </p>
      )}
      <form class="card filters" aria-label="Filter the audit log" onSubmit={(e) => (e.preventDefault(), setFilter(draft))}>
        {field('action', 'Action starts with', 'verb.gates')}
        {field('actor', 'Actor', 'local:you')}
        <p>
          <label for="audit-outcome">Outcome</label>
          <select id="audit-outcome" value={draft.outcome} onChange={(e) => setDraft({ ...draft, outcome: (e.target as HTMLSelectElement).value })}>
            <option value="">any</option>
            <option value="ok">ok</option>
            <option value="not_ok">refused or failed</option>
          </select>
        </p>
        <button type="submit">Filter</button>
      </form>
      {!data ? (
        error ? <Problem error={error} /> : <Loading what="the audit log" />
      ) : (
        <div class="scroll">
          <table class="audit">
            <Head cols={['#', 'When', 'Actor', 'Action', 'Target', 'Outcome']} />
            <tbody>
              {data.rows.map((r) => (
                <tr key={r.seq}>
                  <td>{r.seq}</td>
                  <td>
                    <When at={r.at} />
                  </td>
                  <td>{r.actor}</td>
                  <td>
                    <code>{r.action}</code>
                  </td>
                  <td class="small">{r.target ?? '—'}</td>
                  <td>{r.outcome === 'ok' ? 'ok' : <strong class="error-inline">{r.outcome}</strong>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
