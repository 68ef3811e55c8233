import { GIT_REFUSED_COMPONENT } from '../git/git-path.js';
import { SIMULATION_NOT_UNDERSTOOD_MESSAGE, SIMULATION_NOT_UNDERSTOOD_PREFIX } from './simulation-language.js';

/**
 * The simulation agent, run as `node -e <this>` in the worktree. It reads the task (SLUICE_TASK_FILE) and obeys
 * the mini-language in docs/EXECUTORS.md. It is a real child process, so cancel, timeouts and process-group
 * kills are exercised exactly as with a real agent. Plain JavaScript (CommonJS) on purpose: no build step.
 */
export const SIMULATION_SCRIPT = String.raw`
'use strict';
const GIT_REFUSED = new RegExp(${JSON.stringify(GIT_REFUSED_COMPONENT.source)}, 'i');
const fs = require('fs');
const path = require('path');
const cp = require('child_process');
const root = fs.realpathSync(process.cwd());
const task = fs.readFileSync(process.env.SLUICE_TASK_FILE, 'utf8');
const lines = task.split(/\r?\n/);
let written = 0, deleted = 0, directives = 0, summary = null;
const log = (m) => process.stdout.write('[sim] ' + m + '\n');
function target(p) {
  if (!p || path.isAbsolute(p) || p.split(/[\\/]+/).some((s) => s === '..' || GIT_REFUSED.test(s))) {
    process.stderr.write('[sim] refused path ' + JSON.stringify(p) + '\n'); process.exit(2);
  }
  const full = path.join(root, p);
  let dir = path.dirname(full);
  // lstat, not exists: a symlink whose target is out of sight (in the sandbox, say) is still a symlink.
  const present = (p) => { try { fs.lstatSync(p); return true; } catch (e) { return false; } };
  while (!present(dir)) dir = path.dirname(dir);
  let real = null;
  try { real = fs.realpathSync(dir); } catch (e) { real = null; }
  if (real === null || (real !== root && !real.startsWith(root + path.sep))) {
    process.stderr.write('[sim] refused path outside the worktree ' + JSON.stringify(p) + '\n'); process.exit(2);
  }
  // The last component may itself be a symlink (committed in the repository): writing would follow it out.
  let link = false;
  try { link = fs.lstatSync(full).isSymbolicLink(); } catch (e) { link = false; }
  if (link) {
    process.stderr.write('[sim] refused path through a symlink ' + JSON.stringify(p) + '\n'); process.exit(2);
  }
  return full;
}
function block(i) {
  if (lines[i + 1] !== '<<<') return null;
  const body = [];
  let j = i + 2;
  while (j < lines.length && lines[j] !== '>>>') body.push(lines[j++]);
  const text = body.length ? body.join('\n') + '\n' : '';
  return { text: text.split('{{attempt}}').join(process.env.SLUICE_ATTEMPT_NUMBER || '1'), next: j + 1 };
}
async function main() {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (/^(write|append|write-base64|delete|sleep|log|summary|spawn-sleeper|exit) \S|^(ignore-sigterm|fail)( |$)/.test(line)) directives++;
    if ((m = /^(write|append|write-base64) (\S+)$/.exec(line)) && lines[i + 1] === '<<<') {
      const b = block(i);
      const file = target(m[2]);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const data = m[1] === 'write-base64' ? Buffer.from(b.text.replace(/\s+/g, ''), 'base64') : b.text;
      if (m[1] === 'append') fs.appendFileSync(file, data); else fs.writeFileSync(file, data);
      written++; log(m[1] + ' ' + m[2]);
      i = b.next; continue;
    }
    if ((m = /^delete (\S+)$/.exec(line))) { fs.rmSync(target(m[1]), { recursive: true, force: true }); deleted++; log('delete ' + m[1]); }
    else if ((m = /^sleep (\d+)$/.exec(line))) { log('sleep ' + m[1]); await new Promise((r) => setTimeout(r, Number(m[1]))); }
    else if ((m = /^log (.*)$/.exec(line))) log(m[1]);
    else if ((m = /^summary (.*)$/.exec(line))) summary = m[1];
    else if (line === 'ignore-sigterm') { process.on('SIGTERM', () => log('SIGTERM ignored')); log('ignoring SIGTERM'); }
    else if ((m = /^spawn-sleeper (\d+)$/.exec(line))) {
      const c = cp.spawn(process.execPath, ['-e', 'process.on("SIGTERM",()=>{});setTimeout(()=>{},' + m[1] + ')'], { stdio: 'ignore' });
      log('spawned sleeper ' + c.pid);
    }
    else if ((m = /^fail(?: (.*))?$/.exec(line))) { process.stderr.write('[sim] failure: ' + (m[1] || 'simulated failure') + '\n'); log('summary: failed: ' + (m[1] || 'simulated failure')); process.exit(1); }
    else if ((m = /^exit (\d+)$/.exec(line))) { log('summary: ' + (summary || 'exit ' + m[1])); process.exit(Number(m[1])); }
    i++;
  }
  if (directives === 0) {
    process.stdout.write(${JSON.stringify(SIMULATION_NOT_UNDERSTOOD_PREFIX + SIMULATION_NOT_UNDERSTOOD_MESSAGE)} + '\n');
    process.exit(3);
  }
  log('summary: ' + (summary || ('simulation wrote ' + written + ' file(s), deleted ' + deleted)));
}
main().catch((e) => { process.stderr.write(String(e && e.stack || e) + '\n'); process.exit(70); });
`;
