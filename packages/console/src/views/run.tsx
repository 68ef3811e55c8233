import { useState } from 'preact/hooks';
import type { AttemptDetail, Attempt, Gate, RunDetail, Step } from '@sluice/shared-protocol';
import { verb } from '../api.js';
import { Head, GateDecision, Loading, Problem, Sha, State, When } from '../components.js';
import { useLive } from '../live.js';
import { href } from '../router.js';
import { ArtifactText } from './artifact-text.js';

const LIVE = ['queued', 'preparing', 'running', 'validating'];

export function RunView({ runId }: { runId: string }) {
  const { data, error } = useLive(
    `run:${runId}`,
    async () => {
      const [run, gates] = await Promise.all([verb<RunDetail>('runs.get', { runId }), verb<{ gates: Gate[] }>('gates.list', { runId })]);
      return { run, gates: gates.gates };
    },
    (e) => e.runId === runId,
  );
  if (!data) return error ? <Problem error={error} /> : <Loading what="the run" />;
  const { run, gates } = data;
  return (
    <>
      <p class="crumbs">
        <a href={href.runs}>Runs</a> / {run.workspaceId}
      </p>
      <h1>{run.title || run.runId}</h1>
      <dl class="facts">
        <dt>State</dt>
        <dd>
          <State value={run.state} />
        </dd>
        <dt>Opened by</dt>
        <dd>{run.createdBy}</dd>
        <dt>Run branch</dt>
        <dd>
          <code>{run.branch}</code> at <Sha value={run.headCommit} />
        </dd>
        <dt>Base</dt>
        <dd>
          <code>{run.baseRef}</code> <Sha value={run.baseCommit} />
        </dd>
        <dt>Opened</dt>
        <dd>
          <When at={run.createdAt} />
        </dd>
      </dl>
      <p class="actions">
        <a class="button" href={href.runDiff(run.runId)}>
          Diff of the whole run
        </a>
        {run.state === 'open' && <AbortRun runId={run.runId} />}
      </p>
      {gates.filter((g) => g.status === 'pending' && g.kind === 'approval').map((g) => (
        <section class="card pending" key={g.gateId} aria-labelledby={`pg-${g.gateId}`}>
          <h2 id={`pg-${g.gateId}`}>Waiting for your approval: step {run.steps.find((s) => s.stepId === g.stepId)?.seq}</h2>
          <GateDecision gate={g} />
        </section>
      ))}
      <h2>Timeline</h2>
      {run.steps.length === 0 && <p class="muted">No steps yet.</p>}
      <ol class="timeline">
        {run.steps.map((s) => (
          <StepCard key={s.stepId} step={s} gates={gates.filter((g) => g.stepId === s.stepId)} />
        ))}
      </ol>
    </>
  );
}

function AbortRun({ runId }: { runId: string }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<Error | null>(null);
  if (!open)
    return (
      <button type="button" class="reject" onClick={() => setOpen(true)}>
        Abort run…
      </button>
    );
  return (
    <form class="inline" onSubmit={(e) => e.preventDefault()} aria-label="Abort the run">
      <label for="abort-reason">Reason</label>
      <input id="abort-reason" value={reason} maxLength={2000} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
      <button type="button" class="reject" onClick={() => verb('runs.abort', { runId, ...(reason ? { reason } : {}) }).then(() => setOpen(false), setError)}>
        Abort the run
      </button>
      <button type="button" onClick={() => setOpen(false)}>
        Keep it
      </button>
      <Problem error={error} />
    </form>
  );
}

function StepCard({ step, gates }: { step: Step; gates: Gate[] }) {
  return (
    <li class="card step" aria-labelledby={`st-${step.stepId}`} data-step={step.stepId}>
      <h3 id={`st-${step.stepId}`}>
        Step {step.seq} · <code>{step.executor}</code> · <State value={step.state} />
      </h3>
      <p class="small muted">
        by {step.createdBy} · <When at={step.createdAt} /> · validations: {step.validations.join(', ') || 'none'} · approval {step.approvalRequired ? 'required' : 'not required'}
      </p>
      <details>
        <summary>Task</summary>
        <pre class="text">{step.task}</pre>
      </details>
      <ol class="attempts">
        {step.attempts.map((a) => (
          <AttemptCard key={a.attemptId} attempt={a} accepted={a.attemptId === step.acceptedAttemptId} />
        ))}
      </ol>
      {gates.length > 0 && (
        <div class="scroll">
        <table class="gates">
          <caption>Gates</caption>
          <Head cols={['Gate', 'Status', 'Decided by', 'Why']} />
          <tbody>
            {gates.map((g) => (
              <tr key={g.gateId}>
                <td>{g.kind}</td>
                <td>
                  <State value={g.status} />
                </td>
                <td>{g.decidedBy ?? <span class="muted">—</span>}</td>
                <td class="reason">{g.reason ?? g.rule}</td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}
    </li>
  );
}

function AttemptCard({ attempt, accepted }: { attempt: Attempt; accepted: boolean }) {
  const { data } = useLive(`attempt:${attempt.attemptId}:${attempt.state}`, () => verb<AttemptDetail>('attempts.get', { attemptId: attempt.attemptId }), (e) => e.attemptId === attempt.attemptId);
  const [error, setError] = useState<Error | null>(null);
  const log = data?.artifacts.find((r) => r.kind === 'log') ?? data?.artifacts.find((r) => r.kind === 'stdout');
  return (
    <li class="attempt" data-attempt={attempt.attemptId}>
      <p>
        Attempt {attempt.number} <State value={attempt.state} />
        {accepted && <strong> accepted</strong>}
        {attempt.failureCode && <span class="error-inline"> {attempt.failureCode}</span>} · {attempt.changedFiles ?? 0} changed file{attempt.changedFiles === 1 ? '' : 's'} · commit <Sha value={attempt.commit} />
      </p>
      {attempt.summary && <p class="small">{attempt.summary}</p>}
      <p class="actions">
        {attempt.commit && <a href={href.attemptDiff(attempt.attemptId)}>Diff of attempt {attempt.number}</a>}
        {LIVE.includes(attempt.state) && (
          <button type="button" class="reject" onClick={() => verb('attempts.cancel', { attemptId: attempt.attemptId, reason: 'cancelled in the console' }).catch(setError)}>
            Cancel attempt
          </button>
        )}
      </p>
      <Problem error={error} />
      {log && (
        <details>
          <summary>Agent log ({log.kind === 'log' ? 'parsed' : 'output'}, {log.size} bytes)</summary>
          <ArtifactText runId={attempt.runId} digest={log.digest} lines />
        </details>
      )}
      {data && data.validationResults.length > 0 && (
        <ul class="validations">
          {data.validationResults.map((v) => (
            <li key={`${v.name}-${v.createdAt}`}>
              <details>
                <summary>
                  Validation <code>{v.name}</code> <State value={v.passed ? 'passed' : 'failed'} /> exit {v.exitCode ?? '—'}
                  {v.timedOut ? ' (timed out)' : ''} in {v.durationMs} ms
                </summary>
                <p class="small muted">
                  <code>{v.argv.join(' ')}</code>
                </p>
                {v.stdoutDigest && <ArtifactText runId={attempt.runId} digest={v.stdoutDigest} label="stdout" />}
                {v.stderrDigest && <ArtifactText runId={attempt.runId} digest={v.stderrDigest} label="stderr" />}
              </details>
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}
