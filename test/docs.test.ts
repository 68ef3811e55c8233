import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXECUTOR_CHECK_STATUSES, GENERATED_DOC_SECTIONS, generatedPartOf } from '@sluice/shared-protocol';
import { ADAPTER_KINDS } from '../packages/daemon/src/executors/index.js';

const read = (p: string) => readFileSync(new URL(`../${p}`, import.meta.url), 'utf8');

describe('docs match the code', () => {
  it.each(GENERATED_DOC_SECTIONS.map((s) => [s.file, s.marker, s] as const))('%s lists exactly the %s of shared-protocol', (file, marker, section) => {
    const part = generatedPartOf(read(file), marker);
    expect(part, `${file} must keep the ${marker}:start/${marker}:end markers`).not.toBeNull();
    expect(part, 'regenerate with: npm run docs:verbs').toBe(section.render());
  });

  it('.ci/run runs the README test command', () => {
    const readme = read('README.md');
    const ci = read('.ci/run');
    expect(readme).toContain('npm ci && npm test');
    expect(ci).toMatch(/npm ci/);
    expect(ci).toMatch(/npm test/);
  });

  it('docs/EXECUTORS.md shows `sluice executors check` for a workspace with every adapter (node scripts/docs-executors-check.mjs)', () => {
    const part = generatedPartOf(read('docs/EXECUTORS.md'), 'executors-check');
    expect(part, 'docs/EXECUTORS.md must keep the executors-check markers').not.toBeNull();
    const lines = part!.split('\n');
    expect(lines.slice(0, 3)).toEqual(['```text', '$ sluice executors check', expect.stringMatching(/^WORKSPACE\s+EXECUTOR\s+ADAPTER\s+STATUS\s+VERSION\s+TESTED\s+FLAGS\s+AUTH\s+BINARY$/)]);
    const rows = lines.slice(3).filter((l) => /^[\w-]+\s{2,}/.test(l));
    expect(rows.map((r) => r.split(/\s{2,}/)[2]).sort()).toEqual([...ADAPTER_KINDS].sort());
    for (const r of rows) expect(EXECUTOR_CHECK_STATUSES).toContain(r.split(/\s{2,}/)[3]);
    expect(rows.filter((r) => / (claude-code|codex|gemini) /.test(r)).map((r) => r.split(/\s{2,}/)[3])).toEqual(['ready', 'ready', 'ready']);
  });
});
