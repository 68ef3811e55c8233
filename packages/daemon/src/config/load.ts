import { existsSync, readFileSync } from 'node:fs';

import { SluiceError, zodDetails } from '@sluice/shared-protocol';
import { writeFileAtomic } from '../home/home.js';
import { DaemonConfig, type DaemonConfigInput } from './schema.js';

/** Freeze an object graph so a parsed config cannot change under the daemon. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/** Validate raw config JSON; throws `SluiceError('BAD_REQUEST')` listing the problems. */
export function parseConfig(raw: unknown): DaemonConfig {
  const result = DaemonConfig.safeParse(raw);
  if (!result.success) {
    const details = zodDetails(result.error);
    throw new SluiceError('BAD_REQUEST', `config.json is not valid: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
  }
  return deepFreeze(result.data);
}

/** The config file as written (durations still text); `{}` when there is none. */
export function readRawConfig(configPath: string): DaemonConfigInput {
  if (!existsSync(configPath)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (err) {
    throw new SluiceError('BAD_REQUEST', `${configPath} is not valid JSON: ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new SluiceError('BAD_REQUEST', `${configPath} must hold a JSON object`);
  return raw as DaemonConfigInput;
}

/** Load and validate `config.json` (defaults when missing), frozen. */
export function loadConfig(configPath: string): DaemonConfig {
  return parseConfig(readRawConfig(configPath));
}

/** Validate and write raw config (mode 600, atomic); returns the parsed, frozen config. */
export function writeRawConfig(configPath: string, raw: DaemonConfigInput): DaemonConfig {
  const parsed = parseConfig(raw);
  writeFileAtomic(configPath, `${JSON.stringify(raw, null, 2)}\n`, 0o600);
  return parsed;
}

