import * as z from 'zod';
import { NAME_PATTERN } from './ids.js';

/** The daemon's id of one registration of a workspace: a new one each time a repository is added. */
export const REGISTRATION_PATTERN = /^reg_[A-Za-z0-9_-]{22}$/;
export const Registration = z.string().regex(REGISTRATION_PATTERN);

const SHARE_PATTERN = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,63})(?:@(reg_[A-Za-z0-9_-]{22}))?$/;

/** A parsed share: a workspace id, tied to the registration it was shared under (null for a workspace that has none). */
export interface Share {
  workspaceId: string;
  registration: string | null;
}

/**
 * One share as the connector stores it and sends it in `x-sluice-shared-workspaces`: `<workspace>@<registration>`,
 * or a bare workspace id for a workspace registered before registrations existed. A workspace removed and added
 * again (or another repository under the same id) has a new registration, so an old share no longer reaches it.
 */
export function parseShare(entry: string): Share | null {
  const m = SHARE_PATTERN.exec(entry);
  if (!m || m[1]!.includes('..') || !NAME_PATTERN.test(m[1]!)) return null;
  return { workspaceId: m[1]!, registration: m[2] ?? null };
}

/** The stored form of a share. */
export function shareEntry(workspaceId: string, registration: string | null): string {
  return registration ? `${workspaceId}@${registration}` : workspaceId;
}

/** The workspace ids of a share list. */
export function sharedWorkspaceIds(entries: readonly string[]): string[] {
  return entries.map((e) => parseShare(e)?.workspaceId ?? e);
}

export const ShareEntry = z
  .string()
  .max(100)
  .refine((s) => parseShare(s) !== null, 'must be a workspace id, optionally followed by @reg_<22 characters>');

/** True when a share still names this registration of a workspace (what the daemon checks, for the connector's own reports). */
export function shareReaches(entry: string, ws: { workspaceId: string; registration?: string | null | undefined }): boolean {
  const share = parseShare(entry);
  return share !== null && share.workspaceId === ws.workspaceId && share.registration === (ws.registration ?? null);
}
