import { existsSync, readFileSync } from 'node:fs';
import { EnrollResponse, ErrorBody, RELAY_PATHS } from '@sluice/shared-protocol';
import { loadConnectorConfig, saveConnectorConfig } from '../config/connector-config.js';
import type { ConnectorConfig } from '../config/connector-config.js';
import { ConnectorFailure, EXIT_CODES } from '../errors/exit-codes.js';
import { generateIdentity } from '../identity/ed25519.js';
import { httpJson } from '../net/http-json.js';
import { checkRelayUrl, relayHttpUrl } from '../net/relay-url.js';

export interface EnrollOptions {
  configPath: string;
  relay: string;
  token: string;
  name: string;
  caPath?: string | undefined;
  insecure: boolean;
  force: boolean;
}

/**
 * Make a fresh Ed25519 identity, register its public key with the relay using a single-use enrollment token, and
 * write the config (mode 600). The private key never leaves this machine. An existing config keeps its shares and
 * daemon settings when re-enrolling with `force`.
 */
export async function enroll(opts: EnrollOptions): Promise<Readonly<ConnectorConfig>> {
  if (!/^slc_enr_[A-Za-z0-9_-]+$/.test(opts.token)) {
    throw new ConnectorFailure('ENROLLMENT_TOKEN_INVALID', 'the enrollment token must look like slc_enr_…', EXIT_CODES.usage);
  }
  const base = checkRelayUrl(opts.relay, opts.insecure);
  let previous: Readonly<ConnectorConfig> | undefined;
  if (existsSync(opts.configPath)) {
    if (!opts.force) {
      throw new ConnectorFailure('ALREADY_ENROLLED', `${opts.configPath} already holds an enrolled instance; pass --force to replace its identity`, EXIT_CODES.usage);
    }
    try {
      previous = loadConnectorConfig(opts.configPath);
    } catch {
      previous = undefined;
    }
  }
  let ca: string | undefined;
  if (opts.caPath) {
    try {
      ca = readFileSync(opts.caPath, 'utf8');
    } catch (err) {
      throw new ConnectorFailure('CONFIG_INVALID', `cannot read the CA file ${opts.caPath}: ${(err as Error).message}`, EXIT_CODES.usage);
    }
  }
  const identity = generateIdentity();
  const res = await httpJson(relayHttpUrl(base, RELAY_PATHS.enroll), {
    method: 'POST',
    body: { token: opts.token, publicKey: identity.publicKey, name: opts.name },
    ca,
    timeoutMs: 15_000,
    maxBytes: 64 * 1024,
  });
  if (res.kind !== 'response') {
    const detail = res.kind === 'unreachable' ? res.message : res.kind;
    throw new ConnectorFailure('RELAY_UNAVAILABLE', `cannot reach the relay at ${base.origin} (${detail})`, EXIT_CODES.relayUnavailable);
  }
  if (res.status !== 200 && res.status !== 201) {
    const err = ErrorBody.safeParse(res.body);
    if (err.success) throw new ConnectorFailure(err.data.code as 'ENROLLMENT_TOKEN_INVALID', `the relay refused the enrollment: ${err.data.code}: ${err.data.message}`);
    throw new ConnectorFailure('RELAY_ERROR', `the relay refused the enrollment with status ${res.status}`);
  }
  const enrolled = EnrollResponse.safeParse(res.body);
  if (!enrolled.success) throw new ConnectorFailure('RELAY_ERROR', 'the relay answered the enrollment with something unexpected');
  return saveConnectorConfig(opts.configPath, {
    version: 1,
    relayUrl: base.href.replace(/\/$/, ''),
    relayOrigin: enrolled.data.relayOrigin,
    instanceId: enrolled.data.instanceId,
    orgId: enrolled.data.orgId,
    name: opts.name,
    privateKey: identity.privateKeyPem,
    daemon: previous ? { ...previous.daemon } : {},
    shares: previous ? [...previous.shares] : [],
    tls: { ...(opts.caPath ? { ca: opts.caPath } : {}), insecure: opts.insecure },
  });
}
