import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { Gate } from '@sluice/shared-protocol';
import { ApiError, verb } from './api.js';

export function State({ value }: { value: string }) {
  return <span class={`state s-${value}`}>{value.replace(/_/g, ' ')}</span>;
}

export function Sha({ value }: { value: string | null }) {
  return value ? <code title={value}>{value.slice(0, 10)}</code> : <span class="muted">none</span>;
}

export function When({ at }: { at: string | null }) {
  return at ? <time dateTime={at}>{at.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time> : <span class="muted">—</span>;
}

export function Problem({ error }: { error: ApiError | Error | null }) {
  if (!error) return null;
  return (
    <p role="alert" class="error">
      {error instanceof ApiError ? `${error.code}: ` : ''}
      {error.message}
    </p>
  );
}

/** A table's column headings. */
export function Head({ cols }: { cols: readonly string[] }) {
  return (
    <thead>
      <tr>
        {cols.map((c) => (
          <th scope="col" key={c}>
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}

export function Loading({ what }: { what: string }) {
  return <p class="muted" role="status">Loading {what}…</p>;
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section aria-labelledby={id ?? title} class="card">
      <h2 id={id ?? title}>{title}</h2>
      {children}
    </section>
  );
}

/** Approve (choosing among parallel attempts) or reject with a reason; recorded with the signed-in operator. */
export function GateDecision({ gate }: { gate: Gate }) {
  const [choice, setChoice] = useState(gate.candidates.length === 1 ? gate.candidates[0]! : '');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const id = `reason-${gate.gateId}`;
  const decide = async (approve: boolean) => {
    setError(null);
    if (!approve && reason.trim() === '') return setError(new Error('Say why you reject it.'));
    if (approve && gate.candidates.length > 1 && !choice) return setError(new Error('Choose the attempt to accept.'));
    setBusy(true);
    try {
      if (approve) await verb('gates.approve', { gateId: gate.gateId, ...(choice ? { attemptId: choice } : {}), ...(reason.trim() ? { reason: reason.trim() } : {}) });
      else await verb('gates.reject', { gateId: gate.gateId, reason: reason.trim() });
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="decision" aria-label={`Decide gate ${gate.gateId}`} onSubmit={(e) => e.preventDefault()}>
      {gate.candidates.length > 1 && (
        <fieldset>
          <legend>Attempt to accept</legend>
          {gate.candidates.map((a) => (
            <label key={a} class="choice">
              <input type="radio" name={`choice-${gate.gateId}`} value={a} checked={choice === a} onChange={() => setChoice(a)} />
              <code>{a}</code> <a href={`#/diff/attempt/${a}`}>diff</a>
            </label>
          ))}
        </fieldset>
      )}
      <label for={id}>Reason (required to reject)</label>
      <textarea id={id} rows={2} maxLength={2000} value={reason} onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)} />
      <div class="actions">
        <button type="button" class="approve" disabled={busy} onClick={() => void decide(true)}>
          Approve
        </button>
        <button type="button" class="reject" disabled={busy} onClick={() => void decide(false)}>
          Reject
        </button>
      </div>
      <Problem error={error} />
    </form>
  );
}
