import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED_DOC_SECTIONS, generatedPartOf } from '@sluice/shared-protocol';

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
});
