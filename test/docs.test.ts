import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderVerbTableMarkdown } from '@sluice/shared-protocol';

const read = (p: string) => readFileSync(new URL(`../${p}`, import.meta.url), 'utf8');

describe('docs match the code', () => {
  it('docs/CONNECTOR.md lists exactly the verb table', () => {
    const doc = read('docs/CONNECTOR.md');
    const m = /<!-- verbs:start -->\n([\s\S]*?)\n<!-- verbs:end -->/.exec(doc);
    expect(m, 'docs/CONNECTOR.md must keep the verbs:start/verbs:end markers').not.toBeNull();
    expect(m?.[1]?.trim(), 'regenerate with: npm run docs:verbs').toBe(renderVerbTableMarkdown());
  });

  it('.ci/run runs the README test command', () => {
    const readme = read('README.md');
    const ci = read('.ci/run');
    expect(readme).toContain('npm ci && npm test');
    expect(ci).toMatch(/npm ci/);
    expect(ci).toMatch(/npm test/);
  });
});
