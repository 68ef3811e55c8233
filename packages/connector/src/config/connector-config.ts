import { readFileSync, statSync } from 'node:fs';
import * as z from 'zod';
import { InstanceId, ShareEntry } from '@sluice/shared-protocol';
import { ConnectorFailure, EXIT_CODES } from '../errors/exit-codes.js';
import { writeFileAtomic600 } from './atomic-write.js';

const Ed25519PrivateJwk = z.strictObject({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  d: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
});

/** The connector config file: identity, relay, daemon location, the share allowlist and TLS options. */
export const ConnectorConfig = z.strictObject({
  version: z.literal(1),
  /** The relay base URL the connector dials (`https://…` or, for loopback, `http://…`). */
  relayUrl: z.string().url(),
  /** The relay origin this instance was enrolled with; signed into every challenge answer. */
  relayOrigin: z.string().url(),
  instanceId: InstanceId,
  orgId: z.string().min(1).max(100),
  name: z.string().min(1).max(200),
  /** Ed25519 private key: PKCS8 PEM or a private JWK. Never leaves this machine. */
  privateKey: z.union([z.string().startsWith('-----BEGIN PRIVATE KEY-----'), Ed25519PrivateJwk]),
  /** Where the daemon lives; defaults to `SLUICE_HOME`'s `daemon.json` and `daemon.token`. */
  daemon: z
    .strictObject({
      home: z.string().min(1).optional(),
      url: z.string().url().optional(),
    })
    .default({}),
  /** The allowlist: only these daemon workspaces exist for the relay, each tied to the registration it was shared under. */
  shares: z.array(ShareEntry).max(256).default([]),
  tls: z
    .strictObject({
      /** A PEM file with the CA(s) to trust for the relay, instead of the system store. */
      ca: z.string().min(1).optional(),
      /** Allow plain `ws://`/`http://` to a non-loopback relay. TLS verification is never turned off. */
      insecure: z.boolean().default(false),
    })
    .default({ insecure: false }),
});
export type ConnectorConfig = z.infer<typeof ConnectorConfig>;
export type ConnectorConfigInput = z.input<typeof ConnectorConfig>;

/** Refuse a config that group or others can read: it holds the instance's private key. */
export function assertPrivateMode(path: string): void {
  if (process.platform === 'win32') return;
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new ConnectorFailure(
      'CONFIG_INSECURE',
      `refusing to use ${path}: its mode is ${mode.toString(8).padStart(3, '0')} but it holds a private key; run \`chmod 600 ${path}\``,
      EXIT_CODES.configInsecure,
    );
  }
}

/** Load, check permissions, validate and freeze the config. */
export function loadConnectorConfig(path: string): Readonly<ConnectorConfig> {
  let raw: string;
  try {
    assertPrivateMode(path);
    raw = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof ConnectorFailure) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConnectorFailure(
        'NOT_ENROLLED',
        `no connector config at ${path}; enroll first: sluice-connector enroll --relay URL --token slc_enr_…`,
        EXIT_CODES.configInvalid,
      );
    }
    throw new ConnectorFailure('CONFIG_INVALID', `cannot read ${path}: ${(err as Error).message}`, EXIT_CODES.configInvalid);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConnectorFailure('CONFIG_INVALID', `${path} is not valid JSON`, EXIT_CODES.configInvalid);
  }
  const parsed = ConnectorConfig.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'unknown problem';
    throw new ConnectorFailure('CONFIG_INVALID', `${path} is not a valid connector config (${where})`, EXIT_CODES.configInvalid);
  }
  return deepFreeze(parsed.data);
}

/** Validate and write the config atomically with mode 600. */
export function saveConnectorConfig(path: string, config: ConnectorConfigInput): Readonly<ConnectorConfig> {
  const parsed = ConnectorConfig.parse(config);
  writeFileAtomic600(path, `${JSON.stringify(parsed, null, 2)}\n`);
  return deepFreeze(parsed);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
