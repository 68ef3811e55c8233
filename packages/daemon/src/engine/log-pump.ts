import { recordScan, runCursorOf } from '../secrets/findings.js';
import { KeyBlockTracker, redactLines } from '../secrets/scanner.js';
import type { Store } from '../store/index.js';

const LINE_MAX = 500;
const BATCH_LINES = 50;
const FLUSH_MS = 200;
/** Lines of one attempt published as events; the full output is in the stdout/stderr artifacts. */
const LINES_PER_ATTEMPT = 2_000;

/**
 * Turns an executor's live output into `attempt.log` events, batched (one transaction per batch) and bounded
 * per attempt, so followers see progress without the ledger filling up with a chatty agent's output.
 */
export class LogPump {
  private partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  private pending: { stream: 'stdout' | 'stderr'; line: string }[] = [];
  private published = 0;
  private truncatedNoted = false;
  /** Whether a private key block is open at the end of what was published: the next batch continues it. */
  private readonly keyBlock = new KeyBlockTracker();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Store,
    private readonly ids: { runId: string; stepId: string; attemptId: string },
    private readonly actor: string,
    /** Turns one stdout line into the lines published (a structured agent's parsed log); raw when absent. */
    private readonly describe?: (line: string) => string[],
  ) {}

  /** Feed a chunk of a stream. */
  push(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    const text = this.partial[stream] + chunk.toString('utf8');
    const lines = text.split('\n');
    this.partial[stream] = (lines.pop() ?? '').slice(-LINE_MAX * 4);
    for (const line of lines) this.addLine(stream, line);
  }

  private addLine(stream: 'stdout' | 'stderr', line: string): void {
    if (stream === 'stderr' || !this.describe) return this.add(stream, line);
    for (const l of this.describe(line)) this.add(stream, l);
  }

  private add(stream: 'stdout' | 'stderr', line: string): void {
    if (this.published + this.pending.length >= LINES_PER_ATTEMPT) {
      if (!this.truncatedNoted) {
        this.truncatedNoted = true;
        this.pending.push({ stream, line: `[sluice] more output than ${LINES_PER_ATTEMPT} lines; the rest is in the ${stream} artifact` });
      }
      return;
    }
    this.pending.push({ stream, line: line.length > LINE_MAX ? `${line.slice(0, LINE_MAX)}…` : line });
    if (this.pending.length >= BATCH_LINES) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Publish what is pending (and any unterminated last line). */
  flush(final = false): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (final) {
      for (const s of ['stdout', 'stderr'] as const) {
        if (this.partial[s]) this.addLine(s, this.partial[s]);
        this.partial[s] = '';
      }
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.published += batch.length;
    const continues = this.keyBlock.open;
    for (const l of batch) this.keyBlock.see(l.line);
    const lines = batch.map((l) => ({ stream: l.stream, text: l.line }));
    try {
      const { rules } = redactLines(batch.map((l) => l.line), continues);
      this.store.transaction(() => {
        const event = this.store.appendEvent({ type: 'attempt.log', ...this.ids, data: { lines, ...(continues ? { continuesKeyBlock: true } : {}) } }, this.actor);
        if (rules.length > 0) recordScan(this.store, this.ids, { kind: 'event', id: String(runCursorOf(this.store, this.ids.runId, event.cursor)) }, rules, this.actor);
      });
    } catch {
      // Progress events are best effort; the captured output artifacts are the record.
    }
  }
}
