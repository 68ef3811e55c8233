import { describe, expect, it } from 'vitest';
import { RefusalThrottle } from '@sluice/node-kit';

function throttle(maxWindows = 10) {
  let now = 0;
  const rows: string[] = [];
  const t = new RefusalThrottle<string>({
    intervalMs: 100,
    now: () => now,
    maxWindows,
    writeFirst: (row) => rows.push(row),
    writeRepeats: (w, at) => rows.push(`${w.first}..${w.last} x${w.repeats} from ${w.source} ${w.startedAt}-${at}`),
  });
  return { t, rows, at: (ms: number) => (now = ms) };
}

describe('RefusalThrottle', () => {
  it('writes the first refusal of a reason and source at once and the count of the rest when the interval ends', () => {
    const { t, rows, at } = throttle();
    t.record('auth', 'a', 'r1');
    t.record('auth', 'a', 'r2');
    t.record('auth', 'b', 'r3');
    t.record('host', 'a', 'r4');
    t.record('auth', 'a', 'r5');
    at(100);
    t.record('auth', 'a', 'r6');
    t.stop();
    expect(rows).toEqual(['r1', 'r3', 'r4', 'r1..r5 x2 from a 0-100', 'r6']);
  });

  it('past the cap every new source shares one window, so a flood of sources adds no rows', () => {
    const { t, rows } = throttle(2);
    for (const s of ['a', 'b', 'c', 'd', 'e']) t.record('auth', s, s);
    t.record('auth', 'a', 'a2');
    t.stop();
    expect(rows).toEqual(['a', 'b', 'c', 'a..a2 x1 from a 0-0', 'c..e x2 from * 0-0']);
  });
});
