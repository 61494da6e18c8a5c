// JSON schemas of the API's requests and answers: fastify validates and serialises with them, the OpenAPI document is built from them.
import { NOTE_CHARS_MAX, REASON_CHARS_MAX, SAFE_TEXT_PATTERN } from '../domain/operator.js';
import { PLACE_OUTCOMES } from '../domain/stats.js';

export const identifierSchema = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } as const;
const int = { type: 'integer' } as const;
const nullableInt = { type: ['integer', 'null'] } as const;
const nullableString = { type: ['string', 'null'] } as const;
/** A free-form JSON object (a journal document, an exposure record): passed through whole. */
const anyObject = { type: 'object', additionalProperties: true } as const;

/** A circuit as listed (src/store/circuit.ts CircuitView). */
export const circuitSchema = {
  $id: 'Circuit',
  type: 'object',
  properties: {
    scope: { type: 'string', description: 'provider:PROVIDER or account:PROVIDER:ACCOUNT' },
    kind: { type: 'string', enum: ['provider', 'account'] },
    provider: { type: 'string' },
    accountId: nullableString,
    state: { type: 'string', enum: ['closed', 'open', 'half_open'], description: 'open and half_open refuse new pairs needing it (arb_blocked circuit_open)' },
    forced: { type: 'boolean', description: 'forced open by an operator: never probed, stays open until forced closed' },
    generation: int,
    streak: { ...int, description: 'opens in a row (each doubles the cool-off)' },
    openUntilMs: { ...nullableInt, description: 'open: when a probe may test it' },
    probeUntilMs: { ...nullableInt, description: 'half-open: when the probe lock expires' },
    changedAtMs: nullableInt,
    reason: { ...nullableString, description: 'failure_ratio, account_failures, cool_off_over, probe_succeeded, probe_failed or forced' },
    by: nullableString,
    via: nullableString,
    note: nullableString,
    lastChange: { type: ['object', 'null'], additionalProperties: true, description: 'the last change\'s event data: the figures that tripped it, the probe\'s answer, the operator' },
  },
} as const;

export const cursorQuery = { type: 'string', minLength: 1, maxLength: 512, description: 'the nextCursor of the previous page' } as const;
export const dayQuery = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'a UTC day, YYYY-MM-DD' } as const;

export function limitQuery(pageItemsMax: number, defaultItems: number) {
  return { type: 'integer', minimum: 1, maximum: pageItemsMax, default: Math.min(defaultItems, pageItemsMax) } as const;
}

export const reasonBody = {
  type: 'object',
  required: ['reason'],
  additionalProperties: false,
  properties: { reason: { type: 'string', minLength: 1, maxLength: REASON_CHARS_MAX, pattern: SAFE_TEXT_PATTERN, description: 'why (recorded on the audit stream with the token\'s name)' } },
} as const;

export const noteBody = {
  type: 'object',
  required: ['note'],
  additionalProperties: false,
  properties: { note: { type: 'string', minLength: 1, maxLength: NOTE_CHARS_MAX, pattern: SAFE_TEXT_PATTERN, description: 'what was checked and decided' } },
} as const;

const legView = {
  type: 'object',
  properties: {
    provider: { type: 'string' },
    accountId: { type: 'string' },
    selection: { type: 'string' },
    status: { type: 'string', description: 'the placement status (planned, sending, pending, accepted, rejected, not_placed, in_doubt) or "none"' },
    clientRef: nullableString,
    ticketId: nullableString,
    stakeMinor: int,
    oddsMilli: int,
    acceptedStakeMinor: nullableInt,
    acceptedOddsMilli: nullableInt,
  },
} as const;

export const pairSummary = {
  type: 'object',
  properties: {
    arbId: { type: 'string' },
    betPairId: { type: 'string' },
    whitelabel: { type: 'string' },
    currency: { type: 'string' },
    state: { type: 'string' },
    rev: int,
    eventId: { type: 'string' },
    market: { type: 'string' },
    journaledAtMs: { ...int, description: 'when a worker first took the pair (its journal was created)' },
    updatedAtMs: int,
    createdAtMs: { ...nullableInt, description: 'the scanner\'s createdAt, when the job carried one' },
    positive: legView,
    hedge: { ...legView, description: 'the latest hedge attempt (status "none" when there was none)' },
    hedgeAttempts: int,
    legWindowMs: { ...nullableInt, description: 'from the positive\'s acceptance to the hedge\'s, as journaled (ms): how long one leg was live alone; null until hedged' },
    outcomeReason: nullableString,
    settlement: {
      type: ['object', 'null'],
      properties: {
        pnlMinor: nullableInt,
        exposureReason: nullableString,
        actualOutcome: { type: 'string' },
        settledAtMs: int,
      },
    },
  },
} as const;

export const streamEntry = {
  type: 'object',
  properties: { id: { type: 'string' }, type: { type: 'string' }, data: anyObject },
} as const;

const reviewEntry = {
  type: 'object',
  properties: { id: { type: 'string' }, record: anyObject },
} as const;

export const schemas = {
  health: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } },
  ready: {
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['ready', 'not_ready'] },
      checks: {
        type: 'object',
        properties: {
          redisWritable: { type: 'boolean' },
          workerHeartbeat: { type: 'boolean' },
          queueLag: { type: 'boolean' },
        },
      },
    },
  },
  whoami: { type: 'object', properties: { name: { type: 'string' }, scope: { type: 'string' } } },
  tokens: {
    type: 'object',
    properties: { tokens: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, scope: { type: 'string' } } } } },
  },
  pairPage: {
    type: 'object',
    properties: {
      items: { type: 'array', items: pairSummary },
      nextCursor: { ...nullableString, description: 'pass as cursor for the next page; null at the end' },
      scanned: { ...int, description: 'index entries this page examined (at most pairScanMax)' },
    },
  },
  pairDetail: {
    type: 'object',
    properties: {
      pair: pairSummary,
      journal: { type: 'object', properties: { rev: int, state: { type: 'string' }, jobId: nullableString, doc: anyObject } },
      settlementResults: { type: 'object', additionalProperties: { type: 'string' }, description: 'final result by client reference' },
      review: { type: ['object', 'null'], properties: { status: { type: 'string', enum: ['open', 'resolved'] }, record: anyObject } },
      audit: { $ref: 'AuditPage#' },
    },
  },
  auditPage: {
    $id: 'AuditPage',
    type: 'object',
    properties: {
      entries: { type: 'array', items: streamEntry },
      nextCursor: { ...nullableString, description: 'more of the window is left to examine: pass as cursor' },
    },
  },
  openExposures: {
    type: 'object',
    properties: { items: { type: 'array', items: reviewEntry }, total: int },
  },
  resolvedExposures: {
    type: 'object',
    properties: { items: { type: 'array', items: reviewEntry }, total: int, nextCursor: nullableString },
  },
  exposure: { type: 'object', properties: { id: { type: 'string' }, status: { type: 'string', enum: ['open', 'resolved'] }, record: anyObject } },
  resolved: { type: 'object', properties: { id: { type: 'string' }, status: { type: 'string', enum: ['resolved'] }, resolvedBy: { type: 'string' } } },
  killSwitches: {
    type: 'object',
    properties: {
      items: {
        type: 'array',
        items: {
          type: 'object',
          properties: { scope: { type: 'string' }, key: { type: 'string' }, reason: { type: 'string' }, by: nullableString, via: nullableString, setAtMs: nullableInt },
        },
      },
    },
  },
  circuits: {
    type: 'object',
    properties: {
      items: { type: 'array', items: { $ref: 'Circuit#' } },
      total: { ...int, description: 'circuits known (one per bookmaker, and per account that ever had an account problem)' },
    },
  },
  circuitChange: {
    type: 'object',
    properties: {
      scope: { type: 'string' },
      state: { type: 'string', enum: ['closed', 'open', 'half_open'] },
      generation: int,
      changed: { type: 'boolean', description: 'false: it already was in that state (forced open already: the new reason is recorded)' },
    },
  },
  killSwitchChange: {
    type: 'object',
    properties: { scope: { type: 'string' }, key: { type: 'string' }, engaged: { type: 'boolean' }, changed: { type: 'boolean', description: 'false: it already was in that state' } },
  },
  account: {
    type: 'object',
    properties: {
      whitelabel: { type: 'string' },
      provider: { type: 'string' },
      accountId: { type: 'string' },
      cooldown: {
        type: 'object',
        properties: { active: { type: 'boolean' }, remainingMs: int, claimedAtS: { ...nullableInt, description: 'unix seconds, the contract value of cooldown:…' }, heldBy: { ...nullableString, description: 'the arbId that holds it' } },
      },
      rateLimit: {
        type: 'object',
        properties: { placementsMax: int, windowMs: int, placementsInWindow: int, placementsAtMs: { type: 'array', items: int }, freeInMs: { ...int, description: '0 when a pair may be placed now' } },
      },
      killSwitches: { type: 'object', properties: { global: { type: 'boolean' }, provider: { type: 'boolean' }, account: { type: 'boolean' } } },
    },
  },
  providers: {
    type: 'object',
    properties: {
      from: { type: 'string' },
      to: { type: 'string' },
      providers: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            provider: { type: 'string' },
            placements: { type: 'object', properties: Object.fromEntries([['total', int], ...PLACE_OUTCOMES.map((o) => [o, int])]) },
            acceptanceRatio: { type: ['number', 'null'], description: 'accepted / placement calls (null: none)' },
            latencyMs: {
              type: 'object',
              description: 'placement call latency; quantiles are the upper bound of their bucket (null: none, or above the last bucket)',
              properties: { mean: { type: ['number', 'null'] }, p50: nullableInt, p95: nullableInt, p99: nullableInt, bucketsMs: { type: 'array', items: int }, counts: { type: 'array', items: int } },
            },
          },
        },
      },
    },
  },
  pnl: {
    type: 'object',
    properties: {
      from: { type: 'string' },
      to: { type: 'string' },
      projectedThrough: { ...nullableString, description: 'the last audit entry counted (settlements after it are not in the figures yet)' },
      days: {
        type: 'array',
        items: {
          type: 'object',
          properties: { day: { type: 'string' }, currency: { type: 'string' }, pnlMinor: int, pairs: int, pnlUnknown: int, exposures: int, corrections: int },
        },
      },
    },
  },
  deliveries: {
    type: 'object',
    properties: { items: { type: 'array', items: { type: 'object', additionalProperties: { type: 'string' } } }, nextCursor: nullableString },
  },
  deadAlerts: {
    type: 'object',
    properties: { items: { type: 'array', items: {} }, total: int, nextCursor: nullableString },
  },
} as const;
