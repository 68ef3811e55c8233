#!/usr/bin/env node
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
});
// `start` leaves a listening relay behind, which ends through its signal handlers; anything else is done.
if (code !== 0) process.exit(code);
