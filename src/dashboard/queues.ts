// Bull Board on the dashboard's session, read-only: every queue in readOnlyMode (no retry, promote, clean, pause
// buttons) and any request but GET refused before Bull Board sees it. The API's Redis user may not write BullMQ keys anyway.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { recordRefusal } from '../api/authorize.js';
import { ApiError } from '../api/errors.js';
import type { ApiDeps, RouteAccess } from '../api/types.js';

export const QUEUES_PATH = '/dashboard/queues';

export async function registerQueues(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const connection = deps.reads.redis.duplicate();
  connection.on('error', (error) => deps.log.warn({ err: error }, 'redis (bull board) connection error'));
  // skipMetasUpdate: opening a Queue otherwise writes its meta key.
  const queues = [deps.config.queueName, deps.config.settlementQueueName].map((name) => new Queue(name, { connection, skipMetasUpdate: true }));
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUES_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: true, allowRetries: false })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'bet-executor queues' } },
  });
  await app.register(async (board) => {
    // Bull Board's and @fastify/static's routes carry no access of their own: every one needs a read session.
    const access: RouteAccess = { scope: 'read', via: 'session' };
    board.decorate('routeAccessDefault', access);
    board.addHook('preHandler', async (request) => {
      if (request.method === 'GET' || request.method === 'HEAD') return;
      await recordRefusal(deps, request, { status: 405, reason: 'read_only_board', tokenName: request.principal?.name ?? null, via: 'dashboard' });
      throw new ApiError('read_only', `${request.method} ${request.url.split('?')[0] ?? ''}: the queue board is read-only; a money job is never retried or promoted by hand`);
    });
    board.addHook('onClose', async () => {
      for (const q of queues) await q.close();
      connection.disconnect();
    });
    await board.register(serverAdapter.registerPlugin(), { prefix: QUEUES_PATH });
  });
}
