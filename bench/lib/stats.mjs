/** Small statistics helpers shared by every benchmark module. */

/** Nearest-rank percentile of an unsorted array of numbers (p in 0..100). */
export function percentile(samples, p) {
  if (samples.length === 0) return NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Median of an array of numbers. */
export function median(values) {
  return percentile(values, 50);
}

/** p50/p90/p99/max/min/n of a sample array (same unit as the samples). */
export function summarize(samples) {
  if (samples.length === 0) return { n: 0, p50: NaN, p90: NaN, p99: NaN, min: NaN, max: NaN };
  const sorted = Float64Array.from(samples).sort();
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  return { n: sorted.length, p50: at(50), p90: at(90), p99: at(99), min: sorted[0], max: sorted[sorted.length - 1] };
}

/** Current monotonic time in milliseconds (fractional). */
export function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Round to a sensible number of significant digits for tables and JSON. */
export function round(x, digits = 3) {
  if (!Number.isFinite(x)) return x;
  if (x === 0) return 0;
  const mag = Math.floor(Math.log10(Math.abs(x)));
  const decimals = Math.max(0, digits - 1 - mag);
  return Number(x.toFixed(Math.min(decimals, 6)));
}

/**
 * Run `fn` for `rounds` rounds and pool the per-round results.
 * Returns the array of per-round values so callers can take a median and min–max over rounds.
 */
export async function overRounds(rounds, fn) {
  const out = [];
  for (let r = 0; r < rounds; r++) out.push(await fn(r));
  return out;
}

/** min–max spread of per-round values, for notes. */
export function spread(values) {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return '';
  return `${round(Math.min(...finite))}–${round(Math.max(...finite))}`;
}

/** Promise-based sleep (bench code only; never used to assert timing). */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * One measured figure: the median of its rounds, every round kept, the spread in the note.
 * @param {string} id
 * @param {string} name what the figure measures, as the report prints it
 * @param {string} unit
 * @param {number[]} values one value a round
 * @param {{ better?: 'lower' | 'higher', baselineId?: string, noteSuffix?: string, note?: string, [key: string]: unknown }} [opts]
 *   `noteSuffix` is appended to the standard note; `note` replaces it; anything else is copied onto the figure.
 */
export function figure(id, name, unit, values, opts = {}) {
  const { noteSuffix = '', note, ...rest } = opts;
  return {
    id,
    figure: name,
    unit,
    value: round(median(values)),
    note: note ?? `median of ${values.length} rounds (${spread(values)})${noteSuffix}`,
    rounds: values.map((v) => round(v)),
    ...rest,
  };
}
