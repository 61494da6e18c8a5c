// The Redis adapter of the circuit breakers: each change of a circuit is one Lua step (circuit_*.lua) that writes
// the record, its indexes, its event and audit entry together; reads for the API, the CLI, metrics and probers.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { circuitStates, formatCircuitScope, type CircuitScope, type CircuitSettings, type CircuitState, type WindowCounts } from '../domain/circuit.js';
import { luaCodeTable } from './codes.js';
import { auditStream, circuitKeys, eventsStream } from './keys.js';
import type { Actor } from './ops.js';

const luaDir = join(dirname(fileURLToPath(import.meta.url)), 'lua');
const luaFile = (name: string) => readFileSync(join(luaDir, `${name}.lua`), 'utf8');
/** Reply codes, the shared prelude (redis_now_ms), the circuit prelude, then the script. */
const circuitLua = (name: string) => luaCodeTable() + luaFile('fence') + luaFile('circuit') + luaFile(name);

type CircuitReply = [string, string, number, number?];

interface CircuitRedis extends Redis {
  beCircuitReport(...args: (string | number)[]): Promise<CircuitReply>;
  beCircuitProbe(...args: (string | number)[]): Promise<CircuitReply>;
  beCircuitForce(...args: (string | number)[]): Promise<CircuitReply>;
}

export interface CircuitAnswer {
  /** ok | dropped | busy | fenced | already (see CircuitReply in src/domain/circuit.ts). */
  reply: string;
  state: CircuitState;
  generation: number;
}

export interface ReportAnswer extends CircuitAnswer {
  /** This report opened the circuit. */
  opened: boolean;
}

/** A circuit as the API, the CLI and the dashboards show it. */
export interface CircuitView {
  scope: string;
  kind: 'provider' | 'account';
  provider: string;
  accountId: string | null;
  state: CircuitState;
  /** Forced open by an operator: stays open until forced closed. */
  forced: boolean;
  generation: number;
  /** Opens in a row (each doubles the cool-off). */
  streak: number;
  /** Open: when a probe may test it (null when forced or not open). */
  openUntilMs: number | null;
  /** Half-open: the probe lock's expiry. */
  probeUntilMs: number | null;
  /** When it last changed state (null: never changed since it was created). */
  changedAtMs: number | null;
  /** Why it is in its state: failure_ratio, account_failures, cool_off_over, probe_succeeded, probe_failed, forced (null: never changed). */
  reason: string | null;
  /** Who forced it, through what, and why (null unless the last change was forced). */
  by: string | null;
  via: string | null;
  note: string | null;
  /** The last change's event data: the figures that tripped it, the probe's answer, the operator. */
  lastChange: Record<string, unknown> | null;
}

/** Most circuits listed (one per bookmaker and per account that ever had an account problem). */
export const circuitsListedMax = 10_000;
/** Due circuits a prober looks at per look. */
const dueBatchMax = 16;

function scopeArgs(scope: CircuitScope, eventsLenMax: number): Array<string | number> {
  const text = formatCircuitScope(scope);
  return [
    circuitKeys.circuit(text), circuitKeys.window(text), circuitKeys.notClosed, circuitKeys.all, circuitKeys.transitions, eventsStream, auditStream,
    text, scope.kind, scope.provider, scope.kind === 'account' ? scope.accountId : '', eventsLenMax,
  ];
}

function answerOf(reply: CircuitReply, script: string): CircuitAnswer {
  const [word, state, generation] = reply;
  if (!(circuitStates as readonly string[]).includes(state)) throw new Error(`invariant violated: ${script}.lua replied ${JSON.stringify(reply)}`);
  return { reply: word, state: state as CircuitState, generation: Number(generation) };
}

function numberOrNull(text: string | undefined): number | null {
  if (text === undefined || text === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

function textOrNull(text: string | undefined): string | null {
  return text === undefined || text === '' ? null : text;
}

function parseJson(text: string | undefined): Record<string, unknown> | null {
  if (text === undefined || text === '') return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function circuitViewOf(fields: Record<string, string>): CircuitView | null {
  const state = fields.state;
  if (fields.scope === undefined || state === undefined || !(circuitStates as readonly string[]).includes(state)) return null;
  return {
    scope: fields.scope,
    kind: fields.kind === 'account' ? 'account' : 'provider',
    provider: fields.provider ?? '',
    accountId: textOrNull(fields.accountId),
    state: state as CircuitState,
    forced: fields.forced === '1',
    generation: numberOrNull(fields.generation) ?? 0,
    streak: numberOrNull(fields.streak) ?? 0,
    openUntilMs: numberOrNull(fields.openUntilMs),
    probeUntilMs: numberOrNull(fields.probeUntilMs),
    changedAtMs: numberOrNull(fields.changedAtMs),
    reason: textOrNull(fields.reason),
    by: textOrNull(fields.by),
    via: textOrNull(fields.via),
    note: textOrNull(fields.note),
    lastChange: parseJson(fields.lastChange),
  };
}

export class CircuitStore {
  readonly redis: CircuitRedis;

  /** Define the scripts before the client is in use (ioredis breaks a pending auto-pipeline otherwise). */
  constructor(redis: Redis, private readonly eventsLenMax: number) {
    const r = redis as CircuitRedis;
    if (typeof r.beCircuitReport !== 'function') {
      redis.defineCommand('beCircuitReport', { numberOfKeys: 7, lua: circuitLua('circuit_report') });
      redis.defineCommand('beCircuitProbe', { numberOfKeys: 7, lua: circuitLua('circuit_probe') });
      redis.defineCommand('beCircuitForce', { numberOfKeys: 7, lua: circuitLua('circuit_force') });
    }
    this.redis = r;
  }

  /** Adds a worker's counts to the circuit's window; the circuit opens in the same step when they trip it. */
  async report(scope: CircuitScope, counts: WindowCounts, generationSeen: number | null, s: CircuitSettings, detail: string): Promise<ReportAnswer> {
    const reply = await this.redis.beCircuitReport(
      ...scopeArgs(scope, this.eventsLenMax),
      generationSeen ?? '', s.windowMs, s.failureRatio, s.minVolume, s.accountFailuresMin, s.coolOffMs, s.coolOffMsMax,
      counts.place.ok, counts.place.fail, counts.read.ok, counts.read.fail, counts.accountFail, detail.slice(0, 200),
    );
    return { ...answerOf(reply, 'circuit_report'), opened: reply[3] === 1 };
  }

  /** Takes the probe lock (an open circuit past its cool-off goes half-open): reply 'ok' granted, 'busy' not now. */
  async probeBegin(scope: CircuitScope, token: string, lockMs: number): Promise<CircuitAnswer> {
    const reply = await this.redis.beCircuitProbe(...scopeArgs(scope, this.eventsLenMax), 'begin', token, lockMs);
    return answerOf(reply, 'circuit_probe');
  }

  /** Applies a probe's result under the lock's token and generation: reply 'ok' applied, 'fenced' not ours any more. */
  async probeEnd(scope: CircuitScope, token: string, generation: number, ok: boolean, detail: string, s: Pick<CircuitSettings, 'coolOffMs' | 'coolOffMsMax'>): Promise<CircuitAnswer> {
    const reply = await this.redis.beCircuitProbe(
      ...scopeArgs(scope, this.eventsLenMax), 'end', token, generation, ok ? '1' : '0', detail.slice(0, 200), s.coolOffMs, s.coolOffMsMax,
    );
    return answerOf(reply, 'circuit_probe');
  }

  /** An operator forces the circuit open or closed, audited with who, through what and why: reply 'ok' or 'already'. */
  async force(action: 'open' | 'close', scope: CircuitScope, reason: string, actor: Actor): Promise<CircuitAnswer> {
    const reply = await this.redis.beCircuitForce(...scopeArgs(scope, this.eventsLenMax), action, reason, actor.by, actor.via);
    return answerOf(reply, 'circuit_force');
  }

  /** Scopes of circuits that may be due a probe by `nowMs` (the probe step checks by Redis time), oldest first. */
  async dueForProbe(nowMs: number): Promise<string[]> {
    return this.redis.zrangebyscore(circuitKeys.notClosed, '-inf', nowMs, 'LIMIT', 0, dueBatchMax);
  }

  /** Scopes of every circuit not closed (open, half-open, forced), at most circuitsListedMax. */
  async notClosed(): Promise<string[]> {
    return this.redis.zrange(circuitKeys.notClosed, 0, circuitsListedMax - 1);
  }

  async get(scope: CircuitScope): Promise<CircuitView | null> {
    return circuitViewOf(await this.redis.hgetall(circuitKeys.circuit(formatCircuitScope(scope))));
  }

  /** Circuits, the latest changed first (at most `limit`), and how many there are. */
  async list(limit = circuitsListedMax): Promise<{ items: CircuitView[]; total: number }> {
    const [scopes, total] = await Promise.all([
      this.redis.zrevrange(circuitKeys.all, 0, Math.min(limit, circuitsListedMax) - 1),
      this.redis.zcard(circuitKeys.all),
    ]);
    if (scopes.length === 0) return { items: [], total };
    const pipeline = this.redis.pipeline();
    for (const scope of scopes) pipeline.hgetall(circuitKeys.circuit(scope));
    const replies = (await pipeline.exec()) ?? [];
    const items = replies.map(([error, fields]) => (error ? null : circuitViewOf(fields as Record<string, string>))).filter((v): v is CircuitView => v !== null);
    return { items, total };
  }

  /** Transitions so far by `{provider}:{kind}:{to}`. */
  async transitionCounts(): Promise<Record<string, number>> {
    const fields = await this.redis.hgetall(circuitKeys.transitions);
    return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Number(v)]));
  }
}
