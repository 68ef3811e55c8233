import { randomBytes } from 'node:crypto';
import { realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import { NAME_PATTERN, SluiceError } from '@sluice/shared-protocol';
import { gitTextSync } from '../git/git-command.js';
import { readRawConfig, writeRawConfig } from './load.js';
import { ADAPTERS } from './executor-config.js';
import type { DaemonConfig, DaemonConfigInput } from './schema.js';

/**
 * Canonical path of a repository root the operator names. Refuses `..` segments and any symlink on the way
 * (the resolved path must equal its realpath) and anything that is not the top level of a git work tree.
 */
export function canonicalRepoPath(input: string, cwd: string): string {
  if (input.includes('\0')) throw new SluiceError('BAD_REQUEST', 'The path contains a NUL byte.');
  if (input.split(/[\\/]/).includes('..')) throw new SluiceError('BAD_REQUEST', 'The path must not contain "..".');
  const resolved = isAbsolute(input) ? resolve(input) : resolve(cwd, input);
  let real: string;
  try {
    real = realpathSync(resolved);
  } catch {
    throw new SluiceError('BAD_REQUEST', `No such directory: ${resolved}`);
  }
  if (real !== resolved) throw new SluiceError('BAD_REQUEST', `The path goes through a symlink (${resolved} is really ${real}); give the real path.`);
  if (!statSync(real).isDirectory()) throw new SluiceError('BAD_REQUEST', `Not a directory: ${real}`);
  let top: string;
  try {
    top = gitTextSync(real, ['rev-parse', '--show-toplevel']);
  } catch {
    throw new SluiceError('BAD_REQUEST', `Not a git repository: ${real}`);
  }
  if (realpathSync(top) !== real) throw new SluiceError('BAD_REQUEST', `Give the repository root (${top}), not a folder inside it.`);
  return real;
}

/** A workspace id from a folder name: the safe alphabet only. */
function defaultId(path: string): string {
  const id = basename(path).replace(/[^A-Za-z0-9_.-]/g, '-').replace(/\.\.+/g, '.').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return id.length > 0 ? id : 'workspace';
}

/** Adapters `workspace add` can configure by name alone (`command` needs an argv in config.json). */
export const ADDABLE_ADAPTERS = ADAPTERS.filter((a) => a !== 'command');
export type AddableAdapter = (typeof ADDABLE_ADAPTERS)[number];

/**
 * Register a repository as a workspace with the executors named (none by default: the operator chooses what may
 * run) and no validations; returns the new config.
 */
export function addWorkspace(
  configPath: string,
  input: { path: string; id?: string | undefined; cwd: string; executors?: Readonly<Record<string, AddableAdapter>> | undefined },
): { id: string; config: DaemonConfig } {
  const path = canonicalRepoPath(input.path, input.cwd);
  const id = input.id ?? defaultId(path);
  if (!NAME_PATTERN.test(id) || id.includes('..')) throw new SluiceError('BAD_REQUEST', 'The workspace id must be 1-64 characters of A-Z a-z 0-9 _ . - and start with a letter or digit.');
  const raw: DaemonConfigInput = readRawConfig(configPath);
  const workspaces = { ...(raw.workspaces ?? {}) };
  if (Object.prototype.hasOwnProperty.call(workspaces, id)) throw new SluiceError('BAD_REQUEST', `A workspace named ${id} exists already.`);
  for (const [other, ws] of Object.entries(workspaces)) {
    if (ws.path === path) throw new SluiceError('BAD_REQUEST', `${path} is registered already as ${other}.`);
  }
  // codex can only run with its workspace-write sandbox, which lets the agent run any command: said explicitly.
  const entry = (adapter: AddableAdapter) => (adapter === 'codex' ? { adapter, policy: { commands: 'any' as const } } : { adapter });
  const executors = Object.fromEntries(Object.entries(input.executors ?? {}).map(([name, adapter]) => [name, entry(adapter)]));
  workspaces[id] = { path, name: id, executors, validations: {}, registration: `reg_${randomBytes(16).toString('base64url')}` };
  return { id, config: writeRawConfig(configPath, { ...raw, workspaces }) };
}

/** Unregister a workspace (its runs stay in the ledger); returns the new config. */
export function removeWorkspace(configPath: string, id: string): DaemonConfig {
  const raw = readRawConfig(configPath);
  const workspaces = { ...(raw.workspaces ?? {}) };
  if (!Object.prototype.hasOwnProperty.call(workspaces, id)) throw new SluiceError('WORKSPACE_NOT_FOUND');
  delete workspaces[id];
  return writeRawConfig(configPath, { ...raw, workspaces });
}
