#!/usr/bin/env node
/**
 * Renders bench/results/latest.json as the markdown tables of docs/PERFORMANCE.md (between the
 * `<!-- bench:table:start -->` and `<!-- bench:table:end -->` markers). Usage: node bench/report.mjs [results.json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const resultsPath = process.argv[2] ?? path.join(here, 'results', 'latest.json');
const docPath = path.join(here, '..', 'docs', 'PERFORMANCE.md');
const START = '<!-- bench:table:start -->';
const END = '<!-- bench:table:end -->';

const doc = JSON.parse(readFileSync(resultsPath, 'utf8'));

function num(x, unit) {
  if (x === null || x === undefined) return '—';
  const s = Math.abs(x) >= 10_000 ? Math.round(x).toLocaleString('en-US') : String(x);
  return unit ? `${s} ${unit}` : s;
}

const esc = (s) => String(s ?? '').replace(/\|/g, '\\|');
const m = doc.machine;
const lines = [];
lines.push(
  `Run of ${doc.generatedAt} (commit \`${m.commit}\`), ${doc.durationS} s, ${doc.options.rounds} rounds${doc.options.quick ? ', quick' : ''}. ` +
    `Machine: ${m.cpus} × ${m.cpuModel}, ${Math.round(m.memoryBytes / 2 ** 30)} GiB, ${m.platform}; node ${m.node}, git ${m.git}, ` +
    `SQLite ${m.sqlite} (better-sqlite3 ${m.betterSqlite3}); tmpdir ${m.tmpdir} on ${m.tmpdirFs}, /dev/shm on ${m.shmFs}; ` +
    `load average ${m.loadavgStart?.[0]} at the start, ${m.loadavgEnd?.[0]} at the end.`,
);
const failed = doc.modules.filter((x) => x.status !== 'ok');
if (failed.length) lines.push('', `Modules not measured in this run: ${failed.map((x) => `\`${x.name}\` (${x.status})`).join(', ')}.`);
const isRaw = (f) => f.id.startsWith('raw.') || /^raw\b/i.test(f.figure);
const groups = [
  ['Targets', (f) => f.target],
  ['Other Sluice figures', (f) => !f.target && !isRaw(f)],
  ['Raw baselines (no Sluice code)', (f) => !f.target && isRaw(f)],
];
for (const [title, pick] of groups) {
  const figs = doc.figures.filter(pick);
  if (figs.length === 0) continue;
  lines.push('', `**${title}**`, '', '| figure | value | baseline | ratio | target | result |', '|---|---|---|---|---|---|');
  for (const f of figs) {
    lines.push(
      `| ${esc(f.figure)} | ${num(f.value, f.unit)} | ${num(f.baseline, f.unit)} | ${f.ratio === null ? '—' : `${f.ratio}×`} | ${esc(f.target ?? '')} | ${f.result === 'MISS' ? '**MISS**' : (f.result ?? '')} |`,
    );
  }
}
const table = lines.join('\n');
const text = readFileSync(docPath, 'utf8');
const a = text.indexOf(START);
const b = text.indexOf(END);
if (a < 0 || b < a) {
  console.error(`${docPath} has no ${START} … ${END} block`);
  process.exit(1);
}
writeFileSync(docPath, `${text.slice(0, a + START.length)}\n${table}\n${text.slice(b)}`);
console.log(`updated ${path.relative(process.cwd(), docPath)} from ${path.relative(process.cwd(), resultsPath)}`);
