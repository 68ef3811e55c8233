import type { Event } from '@sluice/shared-protocol';

/** One line of human progress for an event, or null for events a person following a step does not need. */
export function describeEvent(e: Event, attemptNumbers: ReadonlyMap<string, number>): string[] | null {
  const d = e.data;
  const who = e.attemptId ? `attempt ${attemptNumbers.get(e.attemptId) ?? '?'}` : 'step';
  const s = (v: unknown) => (typeof v === 'string' ? v : v === null || v === undefined ? '' : JSON.stringify(v));
  switch (e.type) {
    case 'step.queued':
      return [`step queued (executor ${s(d['executor'])}, ${s(d['attempts'])} attempt(s))`];
    case 'attempt.created':
      return null;
    case 'attempt.state_changed': {
      const extra = [d['failureCode'] ? `code ${s(d['failureCode'])}` : '', d['exitCode'] !== undefined ? `exit ${s(d['exitCode'])}` : '', d['commit'] ? `commit ${s(d['commit']).slice(0, 12)}` : '']
        .filter(Boolean)
        .join(', ');
      return [`${who}: ${s(d['from'])} → ${s(d['to'])}${extra ? ` (${extra})` : ''}`];
    }
    case 'attempt.log': {
      const lines = Array.isArray(d['lines']) ? (d['lines'] as { stream?: string; text?: string }[]) : [];
      return lines.map((l) => `  ${who} ${l.stream === 'stderr' ? '!' : '|'} ${l.text ?? ''}`);
    }
    case 'validation.recorded':
      return [`${who}: validation ${s(d['name'])} ${d['passed'] ? 'passed' : `FAILED${d['timedOut'] ? ' (timed out)' : ` (exit ${s(d['exitCode'])})`}`}`];
    case 'gate.created':
      return [`${s(d['kind'])} gate ${s(d['gateId'])}: ${s(d['status'])} (${s(d['rule'])})`];
    case 'gate.decided':
      return [`gate ${s(d['gateId'])} ${s(d['status'])} by ${e.actor}`];
    case 'step.state_changed':
      return [`step: ${s(d['from'])} → ${s(d['to'])}${d['acceptedAttemptId'] ? ` (accepted ${s(d['acceptedAttemptId'])})` : ''}`];
    case 'run.head_moved':
      return [`run branch moved to ${s(d['to']).slice(0, 12)}`];
    case 'artifact.recorded':
      return null;
    default:
      return [`${e.type} ${JSON.stringify(d)}`];
  }
}
