// One HTTP POST of a delivery attempt (undici keep-alive agent, a deadline on the whole call, a bounded answer read).
import { Agent } from 'undici';
import { networkDetail } from '../providers/http.js';
import type { AttemptAnswer } from './retry.js';
import type { SinkRequest } from './sinks.js';

/** An answer body larger than this is cut (only its start is kept for the record). */
const answerBytesMax = 16 * 1024;

export class AlertHttp {
  private readonly agent: Agent;

  constructor(private readonly requestTimeoutMs: number, connections: number) {
    // undici's own timers are a backstop; the per-call deadline below is the one that counts.
    this.agent = new Agent({ connections, headersTimeout: requestTimeoutMs * 2, bodyTimeout: requestTimeoutMs * 2, connect: { timeout: requestTimeoutMs } });
  }

  /** POSTs the request; never throws (a failure is a `no_answer` with a short reason). */
  async post(request: SinkRequest): Promise<AttemptAnswer> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('request timed out', 'TimeoutError')), this.requestTimeoutMs);
    try {
      const response = await this.agent.request({
        origin: new URL(request.url).origin,
        path: pathOf(request.url),
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: controller.signal,
      });
      const retryAfter = response.headers['retry-after'];
      return {
        kind: 'answered',
        httpStatus: response.statusCode,
        retryAfterHeader: typeof retryAfter === 'string' ? retryAfter : null,
        body: await readCapped(response.body),
      };
    } catch (error) {
      return { kind: 'no_answer', error: networkDetail(error) };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    bytes += chunk.length;
    if (bytes >= answerBytesMax) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, answerBytesMax).toString('utf8');
}
