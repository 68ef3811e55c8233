import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/index.js';
import { FakeDaemon } from './fake-daemon.js';
import { FakeRelay } from '@sluice/test-kit';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** A temp SLUICE_HOME with a fake daemon and a fake relay, torn down by `close()`. */
export class TestEnv {
  readonly env: NodeJS.ProcessEnv;
  private constructor(
    readonly home: string,
    readonly relay: FakeRelay,
    public daemon: FakeDaemon,
  ) {
    this.env = {
      SLUICE_HOME: home,
      SLUICE_LOG_LEVEL: 'silent',
      SLUICE_CONNECTOR_BACKOFF_BASE_MS: '50',
      SLUICE_CONNECTOR_BACKOFF_CAP_MS: '400',
      SLUICE_CONNECTOR_REFRESH_MS: '300',
      HOME: home,
      PATH: process.env['PATH'],
    };
  }

  static async start(): Promise<TestEnv> {
    const home = mkdtempSync(join(tmpdir(), 'sluice-connector-'));
    const relay = await FakeRelay.start();
    const daemon = await FakeDaemon.start(home);
    return new TestEnv(home, relay, daemon);
  }

  get configPath(): string {
    return join(this.home, 'connector.json');
  }

  /** Run the CLI in-process. */
  async cli(args: string[], signal: AbortSignal = new AbortController().signal): Promise<CliResult> {
    let out = '';
    let err = '';
    const code = await runCli(args, { env: this.env, out: (s) => (out += s), err: (s) => (err += s), signal });
    return { code, out, err };
  }

  /** Enroll against the fake relay and share `web-app`. */
  async enrollAndShare(shares: string[] = ['web-app']): Promise<string> {
    const r = await this.cli(['enroll', '--relay', this.relay.url, '--token', this.relay.addEnrollToken(), '--name', 'test-box', '--json']);
    if (r.code !== 0) throw new Error(`enroll failed: ${r.err}`);
    for (const s of shares) {
      const sr = await this.cli(['share', s]);
      if (sr.code !== 0) throw new Error(`share failed: ${sr.err}`);
    }
    return (JSON.parse(r.out) as { instanceId: string }).instanceId;
  }

  async close(): Promise<void> {
    await this.relay.close();
    await this.daemon.close();
    rmSync(this.home, { recursive: true, force: true });
  }
}
