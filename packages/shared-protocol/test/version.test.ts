import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SLUICE_VERSION } from '../src/index.js';

const ROOT = join(import.meta.dirname, '../../..');
const versionOf = (dir: string) => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;

describe('SLUICE_VERSION', () => {
  it('is the version of the root package and of every workspace package', () => {
    const packages = readdirSync(join(ROOT, 'packages')).map((p) => join(ROOT, 'packages', p));
    expect([ROOT, ...packages].map((d) => [d.slice(ROOT.length) || '/', versionOf(d)])).toEqual([ROOT, ...packages].map((d) => [d.slice(ROOT.length) || '/', SLUICE_VERSION]));
  });
});
