// Reply codes of the Lua scripts, named once: the scripts get them as a `CODE` table from the prelude built here.

/** Replies of every fenced journal write (transition, preflight, reconcile) and of the claim and lease steps. */
export const replyCode = {
  /** The write happened: `{ok, newRev}`. */
  ok: 1,
  /** A guard refused the step, nothing written: `{blocked, reason, remainingMs}`. */
  blocked: 0,
  /** The lease is not held by this token: `{fenced}`. */
  fenced: -1,
  /** The journal's revision is not the expected one: `{moved, rev}`. */
  moved: -2,
  /** An account cooldown to claim belongs to another pair: `{cooldownConflict}`. */
  cooldownConflict: -3,
  /** The journal is not in the expected from-state: `{wrongState, state}`. */
  wrongState: -4,
  /** The step was already done (a duplicate final poll): `{already}`. */
  already: -5,
  /** reconcile.lua: the arb's review entries changed since the decision was taken on them: `{reviewMoved}`. */
  reviewMoved: -7,
  /** claim.lua: another token holds the lease: `{busy, jobId}`. */
  busy: -6,
  /** claim.lua: the journal was created (`{created, rev, doc}`) or existed (`{existing, rev, doc}`). */
  created: 2,
  existing: 3,
} as const;

export type ReplyCodeName = keyof typeof replyCode;

const nameByCode = new Map<number, ReplyCodeName>(
  (Object.entries(replyCode) as Array<[ReplyCodeName, number]>).map(([name, code]) => [code, name]),
);

/**
 * The name of a script's reply code, checked against the codes the caller can handle. An unknown code,
 * or one the caller does not expect, is a bug between TypeScript and Lua: it fails loudly.
 */
export function replyName<T extends ReplyCodeName>(reply: unknown, script: string, expected: readonly T[]): T {
  const code = Array.isArray(reply) ? reply[0] : reply;
  const name = typeof code === 'number' ? nameByCode.get(code) : undefined;
  if (name === undefined || !(expected as readonly string[]).includes(name)) {
    throw new Error(`invariant violated: ${script}.lua replied ${JSON.stringify(reply)}; expected one of ${expected.join(', ')}`);
  }
  return name as T;
}

/** The Lua table `CODE` every script starts with, generated from `replyCode` so both sides share one list. */
export function luaCodeTable(): string {
  const fields = Object.entries(replyCode).map(([name, code]) => `${name} = ${code}`).join(', ');
  return `local CODE = { ${fields} }\n`;
}
