// A tiny git project with a failing test: the thing the demo and the end-to-end tests ask an agent to fix.
import { git as kitGit, makeRepo } from '@sluice/test-kit';

/** The buggy file as committed. */
export const BUGGY_MATH = `'use strict';

/** Adds two numbers. */
function add(a, b) {
  return a - b;
}

module.exports = { add };
`;

/** The fixed file an agent is asked to write. */
export const FIXED_MATH = `'use strict';

/** Adds two numbers. */
function add(a, b) {
  return a + b;
}

module.exports = { add };
`;

/** A wrong "fix" that still fails the test. */
export const WRONG_MATH = `'use strict';

/** Adds two numbers. */
function add(a, b) {
  return a * b;
}

module.exports = { add };
`;

const TEST_JS = `'use strict';
const assert = require('node:assert');
const { add } = require('./src/math.js');

assert.strictEqual(add(2, 3), 5, 'add(2, 3) should be 5');
assert.strictEqual(add(-1, 1), 0, 'add(-1, 1) should be 0');
console.log('ok: add works');
`;

/**
 * Run git in a directory with a fixed identity and no user or system config; returns trimmed stdout.
 * @param {string} cwd
 * @param {string[]} args
 */
export async function git(cwd, args) {
  return kitGit(cwd, ...args);
}

/**
 * Create the demo project in `dir` (a new directory): `src/math.js` with a wrong `add`, `test.js` run by
 * `node test.js`, one commit on `main`. Returns the repo path and its HEAD commit.
 * @param {string} dir
 */
export async function makeBuggyRepo(dir) {
  return makeRepo(
    dir,
    {
      'package.json': `${JSON.stringify({ name: 'tiny-math', version: '1.0.0', private: true, scripts: { test: 'node test.js' } }, null, 2)}\n`,
      'src/math.js': BUGGY_MATH,
      'test.js': TEST_JS,
      'README.md': '# tiny-math\n\n`node test.js` runs the tests.\n',
    },
    'tiny-math: add() (with a bug)',
  );
}
