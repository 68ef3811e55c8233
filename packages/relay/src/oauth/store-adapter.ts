import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { RelayStore } from '../store/relay-store.js';
import { hashSecret } from '../tokens/token-format.js';

/**
 * Models whose id is kept as written: a client id is public, and the authorization server's own sign-in session
 * grants nothing by itself (every authorization still needs an admin's consent). Every other model's id is a secret
 * (a code, a token, an interaction).
 */
const PLAIN_ID_MODELS = new Set(['Client', 'Session']);

/** How long an unused dynamically registered client is kept; approving it for an org keeps it until revoked. */
export interface StoreAdapterOptions {
  now: () => number;
  unusedClientTtlMs: number;
}

/**
 * The authorization server's storage, through the relay store: every record is keyed by the SHA-256 of its id,
 * and a secret id (`jti`) is never written, only given back on a read by that id.
 */
export class StoreAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly store: RelayStore,
    private readonly opts: StoreAdapterOptions,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const { jti: _jti, ...kept } = payload as AdapterPayload & { jti?: string };
    const isClient = this.model === 'Client';
    const expiresAt = expiresIn !== undefined ? this.opts.now() + expiresIn * 1000 : isClient ? this.opts.now() + this.opts.unusedClientTtlMs : null;
    await this.store.putOAuthRecord({
      model: this.model,
      idHash: hashSecret(id),
      payload: PLAIN_ID_MODELS.has(this.model) ? (payload as Record<string, unknown>) : kept,
      grantId: typeof payload.grantId === 'string' ? payload.grantId : null,
      uidHash: typeof payload.uid === 'string' ? hashSecret(payload.uid) : null,
      expiresAt,
    });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.live(id, await this.store.getOAuthRecord(this.model, hashSecret(id)));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const rec = await this.store.getOAuthRecordByUid(this.model, hashSecret(uid));
    return rec && this.live(undefined, rec);
  }

  async findByUserCode(): Promise<undefined> {
    return undefined;
  }

  async consume(id: string): Promise<void> {
    await this.store.consumeOAuthRecord(this.model, hashSecret(id), this.opts.now());
  }

  async destroy(id: string): Promise<void> {
    await this.store.deleteOAuthRecord(this.model, hashSecret(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.store.deleteOAuthRecordsOfGrant(grantId);
  }

  private live(id: string | undefined, rec: Awaited<ReturnType<RelayStore['getOAuthRecord']>>): AdapterPayload | undefined {
    if (!rec || (rec.expiresAt !== null && rec.expiresAt <= this.opts.now())) return undefined;
    return this.payloadOf(rec, id);
  }

  private payloadOf(rec: NonNullable<Awaited<ReturnType<RelayStore['getOAuthRecord']>>>, id: string | undefined): AdapterPayload {
    const payload: Record<string, unknown> = { ...rec.payload };
    if (id !== undefined && !PLAIN_ID_MODELS.has(this.model)) payload.jti = id;
    if (rec.consumedAt !== null) payload.consumed = Math.floor(rec.consumedAt / 1000);
    return payload as AdapterPayload;
  }
}
