import type { WebSocket } from 'ws';
import type { Frame } from '@sluice/shared-protocol';

/** Every frame one side of a real websocket received, in order, with a bounded wait for the next matching one. */
export class FrameTap {
  readonly frames: Frame[] = [];
  /** The close code, once the socket closed. */
  closed: number | undefined;
  private waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      this.frames.push(JSON.parse(d.toString()) as Frame);
      this.wake();
    });
    ws.on('close', (code) => {
      this.closed = code;
      this.wake();
    });
  }

  /** Send a frame object as JSON, or a string or buffer as it is (for malformed frames). */
  send(frame: unknown): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  /** Take the first received frame that matches; fails when the socket closes or `timeoutMs` passes first. */
  async next(pred: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex(pred);
      if (i >= 0) return this.frames.splice(i, 1)[0]!;
      if (this.closed !== undefined) throw new Error(`the socket closed (${this.closed}) before the awaited frame`);
      if (Date.now() > deadline) throw new Error(`no matching frame within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  /** The close code, waiting up to `timeoutMs`; -1 when the socket is still open. */
  async closedWith(timeoutMs = 5000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.closed === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed ?? -1;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
