import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A small load balancer for tests: each new TCP connection goes to the next target in turn (websockets pass
 * through untouched). A target that refuses the connection is skipped, as a health-checking balancer would.
 */
export class TcpBalancer {
  private readonly server: Server;
  private next = 0;
  private readonly open = new Set<Socket>();
  /** Which target each accepted connection went to, in order. */
  readonly routed: number[] = [];

  constructor(public targets: number[]) {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as { port: number }).port;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.open.add(client);
    client.on('close', () => this.open.delete(client));
    client.pause();
    this.connect(client, this.targets.length);
  }

  private connect(client: Socket, triesLeft: number): void {
    if (triesLeft === 0 || this.targets.length === 0) {
      client.destroy();
      return;
    }
    const port = this.targets[this.next++ % this.targets.length]!;
    const upstream = createConnection({ host: '127.0.0.1', port });
    const refused = (): void => this.connect(client, triesLeft - 1);
    upstream.once('error', refused);
    upstream.once('connect', () => {
      upstream.off('error', refused);
      this.routed.push(port);
      this.open.add(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      // A replica killed mid-connection drops its clients here too: they reconnect through the balancer.
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => {
        this.open.delete(upstream);
        client.destroy();
      });
      client.resume();
    });
  }
}
