#!/usr/bin/env node
import { onShutdownSignals } from '@sluice/node-kit';
import { runCli } from './program.js';
import { RUN_DRAIN_TIMEOUT_MS } from './service.js';

const controller = new AbortController();
const done = runCli(process.argv.slice(2), {
  env: process.env,
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  signal: controller.signal,
});
// First signal: refuse new requests, finish the ones in flight, say goodbye. Second: stop waiting for them.
const removeHandlers = onShutdownSignals({
  running: () => 'finishing the requests in flight, then saying goodbye',
  drain: () => {
    controller.abort();
    return done;
  },
  drainTimeoutMs: RUN_DRAIN_TIMEOUT_MS,
  cancel: async () => undefined,
  log: (line) => process.stderr.write(`sluice-connector: ${line}\n`),
});

const code = await done;
process.exitCode = code;
removeHandlers();
// Everything is closed by now; if a stray handle still holds the loop, do not hang a service manager.
setTimeout(() => process.exit(code), 2000).unref();
