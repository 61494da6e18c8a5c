// Operator writes and the API's own Redis steps: kill switches (with who and why), refused requests, readiness.
import type { Redis } from 'ioredis';
import { formatKillScope, type KillScope } from '../domain/operator.js';
import { assertNever } from '../domain/types.js';
import { replyName } from './codes.js';
import { auditStream, eventsStream, keys, opsKeys } from './keys.js';
import { opsLua } from './scripts.js';

/** Who changed something and through what: the actor is an API token's name (the API or its dashboard) or the CLI's `--by`. */
export interface Actor {
  by: string;
  via: 'api' | 'dashboard' | 'cli';
}

export interface KillSwitchView {
  scope: string;
  key: string;
  /** The switch's value: the reason given when it was set. */
  reason: string;
  /** Who set it and when (unix ms); null when it was set outside the API and the CLI (a raw SET). */
  by: string | null;
  via: string | null;
  setAtMs: number | null;
}

export interface KillSwitchChange {
  scope: string;
  key: string;
  /** false: it was already set (set: reason replaced), or not set (clear: nothing done). */
  changed: boolean;
}

export interface RefusedRequests {
  /** Refused requests (401, 403) of the address in the current window, this one included. */
  failures: number;
  /** Until the window ends. */
  remainingMs: number;
}

type Reply = number | [number, number];

interface OpsRedis extends Redis {
  beKillSwitch(...args: (string | number)[]): Promise<number>;
  beAuthFailure(...args: (string | number)[]): Promise<[number, number]>;
}

export function killKeyOf(scope: KillScope): string {
  switch (scope.kind) {
    case 'global': return keys.killGlobal;
    case 'provider': return keys.killProvider(scope.provider);
    case 'account': return keys.killAccount(scope.whitelabel, scope.provider, scope.accountId);
    default: return assertNever(scope, 'kill scope');
  }
}

const readyProbeTtlMs = 10_000;

/** Most kill switches listed (the index is small: one entry per engaged switch). */
const killSwitchesListedMax = 10_000;

export class OpsStore {
  readonly redis: OpsRedis;

  constructor(redis: Redis, private readonly eventsLenMax: number) {
    redis.defineCommand('beKillSwitch', { numberOfKeys: 4, lua: opsLua('kill_switch') });
    redis.defineCommand('beAuthFailure', { numberOfKeys: 2, lua: opsLua('auth_failure') });
    this.redis = redis as OpsRedis;
  }

  /**
   * Engages a switch (`set`; an engaged one gets the new reason) or releases it (`clear`; nothing is recorded
   * when it was not set), recorded on the audit and events streams with who and why in the same step.
   */
  async changeKillSwitch(action: 'set' | 'clear', scope: KillScope, reason: string, actor: Actor, atMs: number): Promise<KillSwitchChange> {
    return this.killSwitch(action, scope, reason, actor, atMs);
  }

  private async killSwitch(action: 'set' | 'clear', scope: KillScope, reason: string, actor: Actor, atMs: number): Promise<KillSwitchChange> {
    const key = killKeyOf(scope);
    const scopeText = formatKillScope(scope);
    const entry = JSON.stringify({ scope: scopeText, reason, by: actor.by, via: actor.via, atMs });
    const data = JSON.stringify({ key, scope: scopeText, reason, by: actor.by, via: actor.via, atMs });
    const reply: Reply = await this.redis.beKillSwitch(key, opsKeys.killIndex, auditStream, eventsStream, action, reason, entry, data, this.eventsLenMax);
    const code = replyName(reply, 'kill_switch', ['ok', 'already']);
    return { scope: scopeText, key, changed: code === 'ok' };
  }

  /**
   * Engaged switches: every indexed one that is still set, and the global switch even when it was set
   * outside the API and the CLI (a switch set by a raw SET on a provider or account is not indexed).
   */
  async killSwitches(): Promise<KillSwitchView[]> {
    const index = await this.redis.hgetall(opsKeys.killIndex);
    const indexed = Object.entries(index).slice(0, killSwitchesListedMax);
    const switchKeys = [...new Set([keys.killGlobal, ...indexed.map(([key]) => key)])];
    const values = await this.redis.mget(...switchKeys);
    const views: KillSwitchView[] = [];
    switchKeys.forEach((key, i) => {
      const reason = values[i];
      if (reason === null || reason === undefined) return;
      const meta = parseIndexEntry(index[key]);
      views.push({ scope: meta.scope ?? scopeOfKey(key), key, reason, by: meta.by, via: meta.via, setAtMs: meta.atMs });
    });
    return views.sort((a, b) => a.key.localeCompare(b.key));
  }

  /** The refused requests of a client address in the current window (no write). */
  async refusedRequests(clientIp: string): Promise<RefusedRequests> {
    const key = opsKeys.authFailures(clientIp);
    const [count, ttl] = await Promise.all([this.redis.get(key), this.redis.pttl(key)]);
    return { failures: Number(count ?? 0), remainingMs: Math.max(0, ttl) };
  }

  /** Counts one refused request (401 or 403) and audits it while the address is under its limit. */
  async recordRefusal(clientIp: string, limit: { failuresMax: number; windowMs: number }, type: string, data: Record<string, unknown>): Promise<RefusedRequests> {
    const [failures, remainingMs] = await this.redis.beAuthFailure(
      opsKeys.authFailures(clientIp), auditStream, limit.windowMs, limit.failuresMax, type, JSON.stringify(data),
    );
    return { failures, remainingMs };
  }

  /**
   * A write to Redis (it fails under OOM with noeviction, on a read-only replica) and the number of workers
   * whose heartbeat is fresh by Redis time. Plain commands, not a script: a script declaring the workers set
   * would need write access to it, and the API's Redis user may only read it (ops/redis/users.acl).
   */
  async readyProbe(instanceId: string, heartbeatAgeMsMax: number): Promise<{ redisNowMs: number; freshWorkers: number }> {
    const written = await this.redis.multi().set(opsKeys.readyProbe(instanceId), '1', 'PX', readyProbeTtlMs).time().exec();
    if (written === null) throw new Error('redis transaction aborted');
    for (const [error] of written) if (error) throw error;
    const [seconds, micros] = written[1]?.[1] as [string, string];
    const redisNowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const freshWorkers = await this.redis.zcount(opsKeys.workers, redisNowMs - heartbeatAgeMsMax, '+inf');
    return { redisNowMs, freshWorkers };
  }
}

function parseIndexEntry(json: string | undefined): { scope: string | null; by: string | null; via: string | null; atMs: number | null } {
  try {
    const entry = JSON.parse(json ?? 'null') as Record<string, unknown> | null;
    return {
      scope: typeof entry?.scope === 'string' ? entry.scope : null,
      by: typeof entry?.by === 'string' ? entry.by : null,
      via: typeof entry?.via === 'string' ? entry.via : null,
      atMs: typeof entry?.atMs === 'number' ? entry.atMs : null,
    };
  } catch {
    return { scope: null, by: null, via: null, atMs: null };
  }
}

/** The scope text of a switch key (be:kill:provider:P → provider:P). */
function scopeOfKey(key: string): string {
  return key.slice('be:kill:'.length);
}
