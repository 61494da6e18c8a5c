// A local alert receiver (a real HTTP server) for the demo and the tests: records every request, answers as scripted.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webhookHeaders } from './sinks.js';

export interface ReceivedRequest {
  /** 1 for the first request the receiver got. */
  seq: number;
  atMs: number;
  path: string;
  headers: IncomingHttpHeaders;
  bodyText: string;
  /** The JSON body, or undefined when it was not JSON. */
  body: unknown;
  /** The idempotency key the request carried (Idempotency-Key header). */
  alertKey: string | undefined;
  /** The status answered, once answered (undefined while held, or for a request left unanswered). */
  answeredStatus?: number;
}

export type Answer =
  | { status: number; headers?: Record<string, string>; body?: string; delayMs?: number }
  /** Never answer: the sender's deadline runs out. */
  | 'hang';

/** Decides the answer; `timesSeen` counts requests carrying this request's key so far (1 for the first). */
export type Respond = (request: ReceivedRequest, timesSeen: number) => Answer;

export interface AlertReceiver {
  url: string;
  requests: ReceivedRequest[];
  respond: Respond;
  /** Keys answered with a 2xx at least once. */
  delivered(): Set<string>;
  close(): Promise<void>;
}

const bodyBytesMax = 1024 * 1024;
const ok: Respond = () => ({ status: 200, body: '{"ok":true}' });

export async function startAlertReceiver(respond: Respond = ok): Promise<AlertReceiver> {
  const requests: ReceivedRequest[] = [];
  const seenByKey = new Map<string, number>();
  const held = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  const receiver: AlertReceiver = {
    url: '',
    requests,
    respond,
    delivered: () => new Set(requests.filter((r) => r.answeredStatus !== undefined && r.answeredStatus >= 200 && r.answeredStatus < 300).flatMap((r) => (r.alertKey ? [r.alertKey] : []))),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= bodyBytesMax) chunks.push(chunk);
    });
    req.on('end', () => {
      const bodyText = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(bodyText);
      } catch {
        body = undefined;
      }
      const key = req.headers[webhookHeaders.idempotencyKey];
      const alertKey = typeof key === 'string' ? key : undefined;
      const times = (seenByKey.get(alertKey ?? '') ?? 0) + 1;
      seenByKey.set(alertKey ?? '', times);
      const request: ReceivedRequest = { seq: requests.length + 1, atMs: Date.now(), path: req.url ?? '/', headers: req.headers, bodyText, body, alertKey };
      requests.push(request);
      const answer = receiver.respond(request, times);
      if (answer === 'hang') {
        held.add(res);
        res.on('close', () => held.delete(res));
        return;
      }
      const send = () => {
        if (res.destroyed) return;
        request.answeredStatus = answer.status;
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body ?? '');
      };
      if (!answer.delayMs) {
        send();
        return;
      }
      held.add(res);
      const timer = setTimeout(() => {
        timers.delete(timer);
        held.delete(res);
        send();
      }, answer.delayMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}
