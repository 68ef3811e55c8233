import { EventEmitter } from 'node:events';

/** Notified after each commit that wrote events: the newest cursor and the runs it touched. */
export interface BusNotice {
  cursor: number;
  runIds: ReadonlySet<string>;
}

/** In-process bus: long-polls, `steps.wait` and SSE wake on it instead of polling the database. */
export class EventBus {
  private readonly emitter = new EventEmitter();
  private closed = false;

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(notice: BusNotice): void {
    this.emitter.emit('notice', notice);
  }

  /** Subscribe; returns the unsubscribe function. */
  subscribe(fn: (notice: BusNotice) => void): () => void {
    this.emitter.on('notice', fn);
    return () => this.emitter.off('notice', fn);
  }

  /**
   * Resolve true when a notice matching `filter` arrives, false after `ms` or when the bus closes.
   */
  waitFor(filter: (notice: BusNotice) => boolean, ms: number): Promise<boolean> {
    if (this.closed || ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        this.emitter.off('notice', onNotice);
        this.emitter.off('close', onClose);
        resolve(value);
      };
      const onNotice = (n: BusNotice) => {
        if (filter(n)) done(true);
      };
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      this.emitter.on('notice', onNotice);
      this.emitter.on('close', onClose);
    });
  }

  /** Wake every waiter (shutdown). */
  close(): void {
    this.closed = true;
    this.emitter.emit('close');
  }
}
