// A small TCP proxy for the rig's network faults between a client (a worker, a replica) and Redis: delay, drop, black-hole.
import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * `pass`: bytes flow both ways; `delay`: each chunk is held delayMs first (order kept); `blackhole`: nothing
 * flows, new connections are accepted and stay silent, bytes already sent wait in the kernel's buffers (as
 * packets of a partition wait for TCP to retransmit them); `drop`: every connection is reset at once, new
 * ones too.
 */
export type ProxyMode = 'pass' | 'delay' | 'blackhole' | 'drop';

interface Link {
  client: Socket;
  upstream: Socket;
}

const connectionsMax = 4_096;

export class TcpProxy {
  private mode: ProxyMode = 'pass';
  private delayMs = 0;
  private readonly links = new Set<Link>();

  private constructor(private readonly server: Server, readonly port: number, readonly target: { host: string; port: number }) {}

  /** Listens on a free port of 127.0.0.1 and forwards every connection to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = createServer();
    server.maxConnections = connectionsMax;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy: no port');
    const proxy = new TcpProxy(server, address.port, target);
    server.on('connection', (client) => proxy.accept(client));
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get currentMode(): ProxyMode {
    return this.mode;
  }

  get connections(): number {
    return this.links.size;
  }

  private accept(client: Socket): void {
    if (this.mode === 'drop') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(this.target.port, this.target.host);
    const link: Link = { client, upstream };
    this.links.add(link);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.forward(client, upstream);
    this.forward(upstream, client);
    const close = () => {
      if (!this.links.delete(link)) return;
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', close);
      socket.on('close', close);
    }
    if (this.mode === 'blackhole') this.hold(link);
  }

  /** One direction; a delayed chunk keeps its place behind the ones before it. */
  private forward(from: Socket, to: Socket): void {
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      if (this.mode !== 'delay' || this.delayMs === 0) {
        chain = chain.then(() => void (to.destroyed || to.write(chunk)));
        return;
      }
      const ms = this.delayMs;
      chain = chain.then(() => new Promise<void>((resolve) => setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
        resolve();
      }, ms)));
    });
  }

  private hold(link: Link): void {
    link.client.pause();
    link.upstream.pause();
  }

  /** Bytes flow again; a black-holed connection delivers what it held (late, as a healed partition does). */
  pass(): void {
    this.mode = 'pass';
    for (const link of this.links) {
      link.client.resume();
      link.upstream.resume();
    }
  }

  delay(ms: number): void {
    this.pass();
    this.mode = 'delay';
    this.delayMs = ms;
  }

  blackhole(): void {
    this.mode = 'blackhole';
    for (const link of this.links) this.hold(link);
  }

  /** Resets every connection (what they held is lost); with `refuse`, new ones are reset too until pass(). */
  drop(refuse = true): void {
    if (refuse) this.mode = 'drop';
    for (const link of [...this.links]) {
      this.links.delete(link);
      link.client.resetAndDestroy();
      link.upstream.resetAndDestroy();
    }
  }

  async close(): Promise<void> {
    this.drop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
