/**
 * Runs one benchmark module in its own process (so its RSS and CPU figures are its own) and sends its figures
 * to the parent over IPC. Usage (by run.mjs only): node child.mjs <module path> <options JSON>
 */
import { pathToFileURL } from 'node:url';

const [, , modulePath, optionsJson] = process.argv;

function send(msg) {
  return new Promise((resolve) => process.send(msg, () => resolve()));
}

try {
  const mod = await import(pathToFileURL(modulePath).href);
  if (typeof mod.run !== 'function') throw new Error(`${modulePath} does not export run()`);
  const figures = await mod.run(JSON.parse(optionsJson));
  if (!Array.isArray(figures)) throw new Error(`${modulePath} run() did not return an array`);
  await send({ ok: true, figures });
  process.exit(0);
} catch (err) {
  await send({ ok: false, error: err && err.stack ? err.stack : String(err) });
  process.exit(1);
}
