import * as z from 'zod';
import { ByteSize } from '../config/byte-size.js';

/** An absolute canonical path, or `~/…` for an entry of the operator's HOME. */
const PolicyPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => (p.startsWith('/') || p.startsWith('~/')) && !p.split('/').includes('..') && !p.includes('\0') && !p.endsWith('/'), 'must be an absolute path or ~/name, without ".." or a trailing "/"');

/** An entry of the operator's HOME, relative to it (`.claude`, `.config/foo`). */
const HomeEntry = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..') && !p.split('/').includes('') && !p.includes('\0'), 'must be a path relative to your HOME, without ".."');

/** `host:port` or `host` (ports 443 and 80): a name or an IP literal, no scheme, no path. */
export const HostPattern = z
  .string()
  .min(1)
  .max(300)
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, 'must be host or host:port (no scheme, no path)');

/**
 * What the sandbox gives a child besides its worktree and the system: more folders read-only (`read`) or
 * read-write (`write`), entries of the operator's HOME (`~/…`) mapped into the child's HOME.
 */
export const FilesystemPolicy = z
  .strictObject({ read: z.array(PolicyPath).max(64).default([]), write: z.array(PolicyPath).max(64).default([]) })
  .default({ read: [], write: [] });
export type FilesystemPolicy = z.infer<typeof FilesystemPolicy>;

/**
 * Hosts the child may reach through the egress proxy. Unset: the adapter's model API for agent adapters (from its
 * base-URL variable, else the vendor's host), nothing for `command`, `simulation`, validations and setup.
 */
export const NetworkPolicy = z.strictObject({ allow: z.array(HostPattern).max(64).optional() }).default({});
export type NetworkPolicy = z.infer<typeof NetworkPolicy>;

export const LIMIT_DEFAULTS = { processes: 1024, memory: 8 * 1024 ** 3, openFiles: 4096 };

/** Bounds on the child's whole process tree (cgroup `pids.max`, `memory.max`) and on each process's open files. */
export const LimitsPolicy = z
  .strictObject({
    processes: z.number().int().min(8).max(1_000_000).default(LIMIT_DEFAULTS.processes),
    memory: ByteSize.default(LIMIT_DEFAULTS.memory),
    openFiles: z.number().int().min(64).max(1_048_576).default(LIMIT_DEFAULTS.openFiles),
  })
  .default(LIMIT_DEFAULTS);
export type LimitsPolicy = z.infer<typeof LimitsPolicy>;

/** HOME entries (relative to the operator's HOME) the child sees, read-only. */
export const HomeEntries = z.array(HomeEntry).max(32);

/** `"on"` (the default: every child in the sandbox) or `"off"` (unconfined, recorded on every attempt). */
export const SandboxMode = z.enum(['on', 'off']).default('on');
export type SandboxMode = z.infer<typeof SandboxMode>;

/** Folders of the worktree that come read-only from the operator's checkout (`node_modules`, `.venv`). */
export const DependencyDirs = z.array(HomeEntry).max(16).default([]);
