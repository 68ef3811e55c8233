#!/usr/bin/env node
import { runCli } from './program.js';

const controller = new AbortController();
let signals = 0;
const onSignal = (): void => {
  signals += 1;
  // First signal: goodbye and drain; a second one means "now".
  if (signals === 1) controller.abort();
  else process.exit(130);
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  signal: controller.signal,
});
process.exitCode = code;
process.removeListener('SIGTERM', onSignal);
process.removeListener('SIGINT', onSignal);
// Everything is closed by now; if a stray handle still holds the loop, do not hang a service manager.
setTimeout(() => process.exit(code), 2000).unref();
