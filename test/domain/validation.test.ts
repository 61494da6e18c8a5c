// Job validation: identifiers, odds, stakes, createdAt, leg defaults, cross-leg and arbitrage rules, error reporting.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseBetPair, parseIsoTimestampMs, type ParseResult } from '../../src/domain/validation.js';
import type { BetPair } from '../../src/domain/types.js';

const limits = { stakeMinorMax: 100_000 };
/** For tests of one field's parsing: no floor on the worst case, any margin, so other legs' terms do not matter. */
const moneyRulesOff = { stakeMinorMax: 100_000, worstCaseMinorMin: -Number.MAX_SAFE_INTEGER, arbMarginBpsMax: 10_000 };

type Json = Record<string, unknown>;

/** A two-way arb: 10000 @ 2.2 on over, 11579 @ 1.9 on under; +421 whichever side wins. */
function validJob(): Json {
  return {
    arbId: 'arb-1',
    betPairId: 'pair_1',
    whitelabel: 'wl1',
    provider: 'bookA',
    currency: 'EUR',
    createdAt: '2024-05-01T12:00:00Z',
    positiveBet: {
      betId: 'bet-p',
      accountId: 'acc-1',
      eventId: 'ev-1',
      market: 'over_under_2.5',
      selection: 'over',
      odds: 2.2,
      stakeMinor: 10_000,
    },
    hedgeBet: {
      betId: 'bet-h',
      accountId: 'acc-2',
      provider: 'bookB',
      eventId: 'ev-1',
      market: 'over_under_2.5',
      selection: 'under',
      odds: '1.900',
      stakeMinor: 11_579,
    },
  };
}

function leg(job: Json, name: 'positiveBet' | 'hedgeBet'): Json {
  return job[name] as Json;
}

function expectErrors(result: ParseResult): string[] {
  assert.equal(result.ok, false, 'expected the job to be refused');
  return result.ok ? [] : result.errors;
}

function expectPair(result: ParseResult): BetPair {
  if (!result.ok) assert.fail(`expected a valid job, got: ${result.errors.join('; ')}`);
  return result.pair;
}

describe('parseBetPair on a valid job', () => {
  it('converts it to a BetPair, with leg defaults, exact odds and createdAtMs', () => {
    assert.deepEqual(expectPair(parseBetPair(validJob(), limits)), {
      arbId: 'arb-1',
      betPairId: 'pair_1',
      whitelabel: 'wl1',
      provider: 'bookA',
      currency: 'EUR',
      createdAtMs: Date.UTC(2024, 4, 1, 12, 0, 0),
      positive: {
        betId: 'bet-p', accountId: 'acc-1', provider: 'bookA', whitelabel: 'wl1', eventId: 'ev-1',
        market: 'over_under_2.5', selection: 'over', oddsMilli: 2200, stakeMinor: 10_000,
      },
      hedge: {
        betId: 'bet-h', accountId: 'acc-2', provider: 'bookB', whitelabel: 'wl1', eventId: 'ev-1',
        market: 'over_under_2.5', selection: 'under', oddsMilli: 1900, stakeMinor: 11_579,
      },
    });
  });

  it("uses a leg's own whitelabel when given", () => {
    const job = validJob();
    leg(job, 'hedgeBet').whitelabel = 'wl2';
    const pair = expectPair(parseBetPair(job, limits));
    assert.equal(pair.hedge.whitelabel, 'wl2');
    assert.equal(pair.positive.whitelabel, 'wl1');
  });

  it('ignores unknown keys at the top level and in legs, and drops them', () => {
    const job = { ...validJob(), futureField: { x: 1 }, priority: 5 };
    leg(job, 'positiveBet').note = 'hello';
    const pair = expectPair(parseBetPair(job, limits));
    assert.equal('futureField' in pair, false);
    assert.equal('note' in pair.positive, false);
  });

  it('accepts a stake equal to stakeMinorMax and 64-character identifiers', () => {
    const job = validJob();
    leg(job, 'positiveBet').stakeMinor = 100_000;
    job.arbId = 'a'.repeat(64);
    const pair = expectPair(parseBetPair(job, moneyRulesOff));
    assert.equal(pair.positive.stakeMinor, 100_000);
  });

  it('uses the default stakeMinorMax (100_000_00) when no limits are given', () => {
    const job = validJob();
    Object.assign(leg(job, 'positiveBet'), { odds: '2.000', stakeMinor: 100_000_00 });
    Object.assign(leg(job, 'hedgeBet'), { odds: '2.000', stakeMinor: 100_000_00 });
    assert.equal(parseBetPair(job).ok, true);
    leg(job, 'positiveBet').stakeMinor = 100_000_01;
    assert.deepEqual(expectErrors(parseBetPair(job)), ['positiveBet.stakeMinor (10000001) > stakeMinorMax (10000000)']);
  });
});

describe('identifiers', () => {
  const topLevel = ['arbId', 'betPairId', 'whitelabel', 'provider'];
  const legFields = ['betId', 'accountId', 'provider', 'whitelabel', 'eventId'];
  const bad = ['a:b', 'a*b', 'a{b', 'a}b', 'a b', '', 'x'.repeat(65), 'a.b', 'é', 'a\nb', 'a/b'];
  const cases: Array<{ path: string; set: (job: Json, value: unknown) => void }> = [
    ...topLevel.map((field) => ({ path: field, set: (job: Json, v: unknown) => { job[field] = v; } })),
    ...(['positiveBet', 'hedgeBet'] as const).flatMap((legName) =>
      legFields.map((field) => ({
        path: `${legName}.${field}`,
        set: (job: Json, v: unknown) => { leg(job, legName)[field] = v; },
      })),
    ),
  ];
  for (const { path, set } of cases) {
    for (const value of bad) {
      it(`refuses ${path} = ${JSON.stringify(value).slice(0, 20)}`, () => {
        const job = validJob();
        set(job, value);
        const errors = expectErrors(parseBetPair(job, limits));
        assert.equal(errors.length, 1, errors.join('; '));
        assert.ok(errors[0]?.startsWith(`${path} (`), errors[0]);
        assert.ok(errors[0]?.includes('must match /^[A-Za-z0-9_-]{1,64}$/'), errors[0]);
      });
    }
  }

  it('refuses a number where an identifier is expected', () => {
    const job = validJob();
    leg(job, 'positiveBet').betId = 12345;
    assert.deepEqual(expectErrors(parseBetPair(job, limits)), ['positiveBet.betId (12345) must be a string']);
  });

  it('shows a long value truncated, with its length', () => {
    const job = validJob();
    job.arbId = 'x'.repeat(65);
    assert.deepEqual(expectErrors(parseBetPair(job, limits)), [
      `arbId ("${'x'.repeat(40)}"… (65 chars)) must match /^[A-Za-z0-9_-]{1,64}$/`,
    ]);
  });

  it('accepts dots and plus signs in market and selection, but not key separators', () => {
    const ok = validJob();
    leg(ok, 'positiveBet').selection = 'home_+1.5';
    leg(ok, 'hedgeBet').selection = 'away_-1.5';
    assert.equal(parseBetPair(ok, limits).ok, true);
    for (const value of ['a:b', 'a b', 'a{b', 'a*b', '', 'x'.repeat(65)]) {
      const job = validJob();
      leg(job, 'hedgeBet').market = value;
      const errors = expectErrors(parseBetPair(job, limits));
      assert.equal(errors.length, 1);
      assert.ok(errors[0]?.startsWith('hedgeBet.market ('), errors[0]);
    }
  });

  it('accepts only three capital letters as currency', () => {
    for (const value of ['eur', 'EU', 'EURO', '', 'E1R', 42]) {
      const job = validJob();
      job.currency = value;
      const errors = expectErrors(parseBetPair(job, limits));
      assert.equal(errors.length, 1);
      assert.ok(errors[0]?.startsWith('currency ('), errors[0]);
    }
  });
});

describe('odds', () => {
  const validRows: Array<[unknown, number]> = [
    [2.05, 2050],
    ['2.05', 2050],
    ['2.50', 2500],
    [2.5, 2500],
    [1.001, 1001],
    [1000, 1_000_000],
    [1e3, 1_000_000], // a JSON number is a number: 1e3 is one thousand
    [3.333, 3333],
  ];
  for (const [odds, oddsMilli] of validRows) {
    it(`reads ${JSON.stringify(odds)} exactly as ${oddsMilli}`, () => {
      const job = validJob();
      leg(job, 'positiveBet').odds = odds;
      assert.equal(expectPair(parseBetPair(job, moneyRulesOff)).positive.oddsMilli, oddsMilli);
    });
  }

  const invalidRows: Array<[unknown, string]> = [
    [2.0505, 'positiveBet.odds (2.0505) has 4 decimals > 3 allowed'],
    ['2.0505', 'positiveBet.odds ("2.0505") has 4 decimals > 3 allowed'],
    [1, 'positiveBet.odds (1) must be > 1'],
    ['1.000', 'positiveBet.odds ("1.000") must be > 1'],
    [0.5, 'positiveBet.odds (0.5) must be > 1'],
    [1000.001, 'positiveBet.odds (1000.001) > oddsMax (1000)'],
    ['1e3', 'positiveBet.odds ("1e3") is not a plain decimal number (like 2.05)'],
    [' 2.5', 'positiveBet.odds (" 2.5") is not a plain decimal number (like 2.05)'],
    [-2, 'positiveBet.odds (-2) is not a plain decimal number (like 2.05)'],
    [1e21, 'positiveBet.odds (1e+21) is not a plain decimal number (like 2.05)'],
    [Number.NaN, 'positiveBet.odds (NaN) must be decimal odds (a number or a decimal string)'],
    [Number.POSITIVE_INFINITY, 'positiveBet.odds (Infinity) must be decimal odds (a number or a decimal string)'],
    [null, 'positiveBet.odds (null) must be decimal odds (a number or a decimal string)'],
    [undefined, 'positiveBet.odds is required'],
  ];
  for (const [odds, message] of invalidRows) {
    it(`refuses ${String(odds)} with "${message}"`, () => {
      const job = validJob();
      leg(job, 'positiveBet').odds = odds;
      assert.deepEqual(expectErrors(parseBetPair(job, limits)), [message]);
    });
  }
});

describe('stakeMinor', () => {
  it('names the value beside its limit', () => {
    const job = validJob();
    leg(job, 'positiveBet').stakeMinor = 120_000;
    assert.deepEqual(expectErrors(parseBetPair(job, limits)), ['positiveBet.stakeMinor (120000) > stakeMinorMax (100000)']);
  });

  const invalidRows: Array<[unknown, string]> = [
    [0, 'hedgeBet.stakeMinor (0) must be a positive integer (minor units)'],
    [-1, 'hedgeBet.stakeMinor (-1) must be a positive integer (minor units)'],
    [10.5, 'hedgeBet.stakeMinor (10.5) must be a positive integer (minor units)'],
    [2 ** 53, 'hedgeBet.stakeMinor (9007199254740992) must be a positive integer (minor units)'],
    ['100', 'hedgeBet.stakeMinor ("100") must be an integer number of minor units'],
    [undefined, 'hedgeBet.stakeMinor is required'],
  ];
  for (const [stake, message] of invalidRows) {
    it(`refuses ${JSON.stringify(stake)}`, () => {
      const job = validJob();
      leg(job, 'hedgeBet').stakeMinor = stake;
      assert.deepEqual(expectErrors(parseBetPair(job, limits)), [message]);
    });
  }
});

describe('createdAt', () => {
  const validRows: Array<[unknown, number | null]> = [
    ['2024-05-01T12:00:00Z', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01T12:00:00.123Z', Date.UTC(2024, 4, 1, 12, 0, 0, 123)],
    ['2024-05-01T12:00:00.123999Z', Date.UTC(2024, 4, 1, 12, 0, 0, 123)],
    ['2024-05-01T14:00:00+02:00', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01T07:30-04:30', Date.UTC(2024, 4, 1, 12)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    [1_714_564_800_000, 1_714_564_800_000],
    [null, null],
    [undefined, null],
  ];
  for (const [createdAt, createdAtMs] of validRows) {
    it(`reads ${JSON.stringify(createdAt)} as ${createdAtMs}`, () => {
      const job = validJob();
      job.createdAt = createdAt;
      assert.equal(expectPair(parseBetPair(job, limits)).createdAtMs, createdAtMs);
    });
  }

  const invalidRows: Array<[unknown, string]> = [
    ['2024-02-30T00:00:00Z', 'createdAt ("2024-02-30T00:00:00Z") must be an RFC 3339 date-time with a zone (like 2024-05-01T12:00:00Z)'],
    ['2023-02-29T00:00:00Z', 'createdAt ("2023-02-29T00:00:00Z") must be an RFC 3339 date-time with a zone (like 2024-05-01T12:00:00Z)'],
    ['2024-05-01T24:00:00Z', 'createdAt ("2024-05-01T24:00:00Z") must be an RFC 3339 date-time with a zone (like 2024-05-01T12:00:00Z)'],
    ['2024-05-01T12:00:00', 'createdAt ("2024-05-01T12:00:00") must be an RFC 3339 date-time with a zone (like 2024-05-01T12:00:00Z)'],
    ['2024-05-01', 'createdAt ("2024-05-01") must be an RFC 3339 date-time with a zone (like 2024-05-01T12:00:00Z)'],
    ['May 1, 2024', 'createdAt ("May 1, 2024") must be an RFC 3339 date-time with a zone (like 2024-05-01T12:00:00Z)'],
    [1_714_564_800, 'createdAt (1714564800) < createdAtMsMin (1000000000000); seconds instead of ms?'],
    [1_714_564_800_000_000, 'createdAt (1714564800000000) >= createdAtMsMax (100000000000000); microseconds instead of ms?'],
    [1_714_564_800_000.5, 'createdAt (1714564800000.5) must be an integer number of unix ms'],
    [true, 'createdAt (true) must be an RFC 3339 date-time string or unix ms'],
  ];
  for (const [createdAt, message] of invalidRows) {
    it(`refuses ${JSON.stringify(createdAt)}`, () => {
      const job = validJob();
      job.createdAt = createdAt;
      assert.deepEqual(expectErrors(parseBetPair(job, limits)), [message]);
    });
  }

  it('parses ISO timestamps the same as Date.parse does for well-formed ones', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1e12, max: 4e12 }), (ms) => {
        const text = new Date(ms).toISOString();
        assert.equal(parseIsoTimestampMs(text), ms);
      }),
    );
  });
});

describe('missing fields and the error list', () => {
  const required = ['arbId', 'betPairId', 'whitelabel', 'provider', 'currency', 'positiveBet', 'hedgeBet'];
  for (const field of required) {
    it(`reports a missing ${field}`, () => {
      const job = validJob();
      delete job[field];
      assert.deepEqual(expectErrors(parseBetPair(job, limits)), [`${field} is required`]);
    });
  }
  for (const field of ['betId', 'accountId', 'eventId', 'market', 'selection', 'odds', 'stakeMinor']) {
    it(`reports a missing positiveBet.${field}`, () => {
      const job = validJob();
      delete leg(job, 'positiveBet')[field];
      assert.deepEqual(expectErrors(parseBetPair(job, limits)), [`positiveBet.${field} is required`]);
    });
  }

  it('reports every error at once, each with its path', () => {
    const job = validJob();
    job.arbId = 'arb:1';
    delete job.betPairId;
    job.currency = 'eur';
    job.createdAt = 1_714_564_800;
    leg(job, 'positiveBet').odds = '2.0505';
    leg(job, 'positiveBet').stakeMinor = 120_000;
    leg(job, 'positiveBet').accountId = 'acc *';
    leg(job, 'hedgeBet').market = 'a b';
    leg(job, 'hedgeBet').stakeMinor = '100';
    leg(job, 'hedgeBet').whitelabel = '{wl}';
    assert.deepEqual(expectErrors(parseBetPair(job, limits)), [
      'arbId ("arb:1") must match /^[A-Za-z0-9_-]{1,64}$/',
      'betPairId is required',
      'currency ("eur") must match /^[A-Z]{3}$/',
      'createdAt (1714564800) < createdAtMsMin (1000000000000); seconds instead of ms?',
      'positiveBet.accountId ("acc *") must match /^[A-Za-z0-9_-]{1,64}$/',
      'positiveBet.odds ("2.0505") has 4 decimals > 3 allowed',
      'positiveBet.stakeMinor (120000) > stakeMinorMax (100000)',
      'hedgeBet.whitelabel ("{wl}") must match /^[A-Za-z0-9_-]{1,64}$/',
      'hedgeBet.market ("a b") must match /^[A-Za-z0-9_.+-]{1,64}$/',
      'hedgeBet.stakeMinor ("100") must be an integer number of minor units',
    ]);
  });

  it('refuses a job that is not an object', () => {
    for (const [raw, shown] of [[null, 'null'], [[], 'an array'], ['job', '"job"'], [42, '42']] as const) {
      assert.deepEqual(expectErrors(parseBetPair(raw, limits)), [`job (${shown}) must be an object`]);
    }
    assert.deepEqual(expectErrors(parseBetPair(undefined, limits)), ['job is required']);
  });

  it('refuses a leg that is not an object', () => {
    const job = validJob();
    job.hedgeBet = 'bet-h';
    assert.deepEqual(expectErrors(parseBetPair(job, limits)), ['hedgeBet ("bet-h") must be an object']);
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.constant(validJob())), (raw) => {
        const result = parseBetPair(raw, limits);
        assert.ok(result.ok || result.errors.length > 0);
      }),
    );
  });
});

describe('both legs on one account', () => {
  it('refuses the same whitelabel, provider and account on both legs', () => {
    const job = validJob();
    delete leg(job, 'hedgeBet').provider;
    leg(job, 'hedgeBet').accountId = 'acc-1';
    assert.deepEqual(expectErrors(parseBetPair(job, limits)), [
      `hedgeBet.accountId ("acc-1") is the positive leg's account (wl1:bookA:acc-1), compared ignoring case; the legs must use different accounts`,
    ]);
  });

  it('refuses it when the legs reach the same account through explicit and defaulted fields', () => {
    const job = validJob();
    leg(job, 'positiveBet').provider = 'bookB';
    leg(job, 'positiveBet').accountId = 'acc-2';
    leg(job, 'hedgeBet').whitelabel = 'wl1';
    const errors = expectErrors(parseBetPair(job, limits));
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /wl1:bookB:acc-2/);
  });

  it('reports it together with the other errors', () => {
    const job = validJob();
    delete leg(job, 'hedgeBet').provider;
    leg(job, 'hedgeBet').accountId = 'acc-1';
    leg(job, 'hedgeBet').odds = '1';
    assert.equal(expectErrors(parseBetPair(job, limits)).length, 2);
  });

  it('accepts the same account id at another provider or whitelabel', () => {
    const job = validJob();
    leg(job, 'hedgeBet').accountId = 'acc-1'; // hedge is at bookB
    assert.equal(parseBetPair(job, limits).ok, true);
    delete leg(job, 'hedgeBet').provider;
    leg(job, 'hedgeBet').whitelabel = 'wl2';
    assert.equal(parseBetPair(job, limits).ok, true);
  });
});

describe('when both legs are on the same selection', () => {
  for (const hedgeSelection of ['over', 'OVER', 'Over']) {
    it(`refuses over / ${hedgeSelection} (selections compared ignoring case) and names the loss when both lose`, () => {
      const job = validJob();
      leg(job, 'hedgeBet').selection = hedgeSelection;
      assert.deepEqual(expectErrors(parseBetPair(job, limits)), [
        `hedgeBet.selection ("${hedgeSelection}") is the positive leg's selection ("over"), compared ignoring case; the legs must back different selections`,
        'worstCaseMinor (-21579) < worstCaseMinorMin (0): the planned pair loses that much when positive lost, hedge lost',
      ]);
    });
  }
});

describe('when the hedge is on another event or market', () => {
  const rows: Array<[string, string, string]> = [
    ['eventId', 'ev-2', 'another event'],
    ['eventId', 'EV-1', 'the event written in another case (a bookmaker may settle it as another event)'],
    ['market', 'match_winner', 'another market'],
    ['market', 'OVER_UNDER_2.5', 'the market written in another case'],
  ];
  for (const [field, value, what] of rows) {
    it(`refuses ${what}`, () => {
      const job = validJob();
      leg(job, 'hedgeBet')[field] = value;
      const shown = field === 'eventId' ? '"ev-1"' : '"over_under_2.5"';
      assert.deepEqual(expectErrors(parseBetPair(job, limits)), [
        `hedgeBet.${field} ("${value}") is not the positive leg's ${field} (${shown}); both legs must be on one event and market (compared exactly)`,
        'worstCaseMinor (-21579) < worstCaseMinorMin (0): the planned pair loses that much when positive lost, hedge lost',
      ]);
    });
  }
});

describe('when both legs use one account written in another case', () => {
  it('refuses it: whitelabel, provider and account are compared ignoring case', () => {
    for (const [whitelabel, provider, accountId] of [['wl1', 'bookA', 'ACC-1'], ['WL1', 'BOOKA', 'Acc-1']]) {
      const job = validJob();
      Object.assign(leg(job, 'hedgeBet'), { whitelabel, provider, accountId });
      assert.deepEqual(expectErrors(parseBetPair(job, limits)), [
        `hedgeBet.accountId ("${accountId}") is the positive leg's account (wl1:bookA:acc-1), compared ignoring case; the legs must use different accounts`,
      ]);
    }
  });
});

describe('when the selections do not provably cover every outcome', () => {
  const rows: Array<{ positive: string; hedge: string; market?: string; why: string }> = [
    { positive: 'home', hedge: 'over', why: 'the selections are of two kinds (home_away, over_under)' },
    { positive: 'home', hedge: 'draw', why: '"draw" is not a known selection' },
    { positive: '+1.5', hedge: '-1.5', why: '"+1.5" is not a known selection' },
    { positive: 'over_2.25', hedge: 'under_2.25', why: '"over_2.25" is a split (quarter) line, settled half won/half lost' },
    { positive: 'over_3.5', hedge: 'under_2.5', why: 'positive lost, hedge lost can happen' },
    { positive: 'over_2.5', hedge: 'under_2', why: 'positive lost, hedge void can happen' },
    { positive: 'home_+1.5', hedge: 'home_-1.5', why: 'positive lost, hedge lost can happen' },
    { positive: 'home_1.5', hedge: 'away_-1.5', why: '"home_1.5" has a handicap without a sign' },
    { positive: 'over_-2.5', hedge: 'under_-2.5', why: '"over_-2.5" has a signed total line' },
    { positive: 'yes_1.5', hedge: 'no_1.5', why: '"yes_1.5" has a line, which yes_no selections do not take' },
    { positive: 'home', hedge: 'away_+1.5', why: 'one selection has a line and the other does not' },
    { positive: '1', hedge: '2', market: '1x2', why: 'market "1x2" is three-way (a draw neither leg backs)' },
    { positive: 'home', hedge: 'away', market: 'match_result_3way', why: 'market "match_result_3way" is three-way (a draw neither leg backs)' },
  ];
  for (const row of rows) {
    it(`refuses ${row.positive} / ${row.hedge}${row.market ? ` on ${row.market}` : ''}: ${row.why}`, () => {
      const job = validJob();
      Object.assign(leg(job, 'positiveBet'), { selection: row.positive, ...(row.market ? { market: row.market } : {}) });
      Object.assign(leg(job, 'hedgeBet'), { selection: row.hedge, ...(row.market ? { market: row.market } : {}) });
      const errors = expectErrors(parseBetPair(job, limits));
      const market = row.market ?? 'over_under_2.5';
      assert.equal(errors[0], `hedgeBet.selection ("${row.hedge}") and the positive leg's ("${row.positive}") do not provably cover every outcome of market "${market}": ${row.why}`);
      assert.match(errors[1] ?? '', /^worstCaseMinor \(-\d+\) < worstCaseMinorMin \(0\)/, 'and the loss it risks');
    });
  }
});

describe('when the selections are a known opposite pair', () => {
  const rows: Array<[string, string]> = [
    ['home', 'away'], ['Home', 'AWAY'], ['1', '2'], ['yes', 'no'], ['back', 'lay'], ['over', 'under'],
    ['over_2.5', 'under_2.5'], ['UNDER_0.5', 'Over_0.5'], ['home_-1.5', 'away_+1.5'], ['home_+0.5', 'away_-0.5'],
    ['1_-2', '2_+2'], ['home_0', 'away_0'], ['over_2', 'under_2'],
    ['over_2.5', 'under_3.5'], ['home_+1.5', 'away_+1.5'], // middles: both may win, neither can lose alone
  ];
  for (const [positive, hedge] of rows) {
    it(`accepts ${positive} / ${hedge}`, () => {
      const job = validJob();
      leg(job, 'positiveBet').selection = positive;
      leg(job, 'hedgeBet').selection = hedge;
      expectPair(parseBetPair(job, limits));
    });
  }
});

describe('when the planned worst case is below worstCaseMinorMin', () => {
  it('refuses both legs at 1.010 (a loss whichever side wins) and names the losing outcome', () => {
    const job = validJob();
    leg(job, 'positiveBet').odds = '1.010';
    leg(job, 'hedgeBet').odds = '1.010';
    assert.deepEqual(expectErrors(parseBetPair(job, limits)), [
      'worstCaseMinor (-11479) < worstCaseMinorMin (0): the planned pair loses that much when positive won, hedge lost',
    ]);
  });

  it('refuses a pair one minor unit short of break-even by default (floor 0), and accepts it under a floor of -5', () => {
    const job = validJob();
    Object.assign(leg(job, 'positiveBet'), { odds: '2.000', stakeMinor: 10_000 });
    Object.assign(leg(job, 'hedgeBet'), { odds: '2.000', stakeMinor: 9_999 });
    const refused = ['worstCaseMinor (-1) < worstCaseMinorMin (0): the planned pair loses that much when positive lost, hedge won'];
    assert.deepEqual(expectErrors(parseBetPair(job, limits)), refused);
    assert.deepEqual(expectErrors(parseBetPair(job)), refused);
    expectPair(parseBetPair(job, { ...limits, worstCaseMinorMin: -5 }));
  });

  it('applies a positive floor (a minimum profit) to the worst outcome', () => {
    expectPair(parseBetPair(validJob(), { ...limits, worstCaseMinorMin: 421 }));
    assert.deepEqual(expectErrors(parseBetPair(validJob(), { ...limits, worstCaseMinorMin: 422 })), [
      'worstCaseMinor (421) < worstCaseMinorMin (422): the planned pair loses that much when positive won, hedge lost',
    ]);
  });
});

describe('when the prices leave an implausible margin', () => {
  it('refuses odds 1000 / 1000 (a 99.8 % margin: a scanner bug or a palpable error, not an arb)', () => {
    const job = validJob();
    leg(job, 'positiveBet').odds = 1000;
    leg(job, 'hedgeBet').odds = '1000';
    assert.deepEqual(expectErrors(parseBetPair(job, limits)), [
      'arbMarginBps (9980) > arbMarginBpsMax (2000): prices this far apart are a scanner bug or a palpable error a bookmaker voids later, not an arb',
    ]);
  });

  it('accepts a margin equal to arbMarginBpsMax and refuses one basis point more', () => {
    const job = validJob();
    Object.assign(leg(job, 'positiveBet'), { odds: '2.500', stakeMinor: 10_000 });
    Object.assign(leg(job, 'hedgeBet'), { odds: '2.500', stakeMinor: 10_000 }); // 1 − 2/2.5 = 20 %
    expectPair(parseBetPair(job, limits));
    assert.equal(expectErrors(parseBetPair(job, { ...limits, arbMarginBpsMax: 1_999 })).length, 1);
  });
});

describe('when a leg carries a field the contract does not honour', () => {
  it('refuses a leg currency other than the pair\'s, and accepts the same one', () => {
    const job = validJob();
    leg(job, 'hedgeBet').currency = 'USD';
    assert.deepEqual(expectErrors(parseBetPair(job, limits)), [
      'hedgeBet.currency ("USD") is not the pair\'s currency ("EUR"); a leg may repeat it only unchanged',
    ]);
    leg(job, 'hedgeBet').currency = 'EUR';
    expectPair(parseBetPair(job, limits));
  });

  it('refuses a leg arbId or betPairId other than the pair\'s', () => {
    const job = validJob();
    leg(job, 'positiveBet').arbId = 'arb-2';
    leg(job, 'hedgeBet').betPairId = 'pair_1';
    assert.deepEqual(expectErrors(parseBetPair(job, limits)), [
      'positiveBet.arbId ("arb-2") is not the pair\'s arbId ("arb-1"); a leg may repeat it only unchanged',
    ]);
  });

  for (const [key, value] of [['side', 'lay'], ['stake', 100], ['price', 2.2], ['oddsFormat', 'american'], ['line', 2.5], ['handicap', '-1.5']] as const) {
    it(`refuses a leg ${key} (it would change the bet), whatever its value`, () => {
      const job = validJob();
      leg(job, 'positiveBet')[key] = value;
      assert.deepEqual(expectErrors(parseBetPair(job, limits)), [
        `positiveBet.${key} (${JSON.stringify(value)}) is not in the contract and would change the bet; refused, not ignored`,
      ]);
    });
  }
});

describe('createdAt in the forms RFC 3339 allows', () => {
  const noon = Date.UTC(2024, 4, 1, 12);
  const validRows: Array<[string, number]> = [
    ['2024-05-01t12:00:00z', noon],
    ['2024-05-01T12:00:00z', noon],
    ['2024-05-01 12:00:00Z', noon],
    ['2024-05-01 14:00:00+02:00', noon],
    ['2024-05-01T12:00:00.1239999999Z', noon + 123],
    ['2016-12-31T23:59:60Z', Date.UTC(2016, 11, 31, 23, 59, 59, 999)], // a leap second, read as the last ms
    ['2016-12-31T15:59:60-08:00', Date.UTC(2016, 11, 31, 23, 59, 59, 999)], // RFC 3339 §5.8's example
  ];
  for (const [createdAt, createdAtMs] of validRows) {
    it(`reads ${JSON.stringify(createdAt)}`, () => {
      const job = validJob();
      job.createdAt = createdAt;
      assert.equal(expectPair(parseBetPair(job, limits)).createdAtMs, createdAtMs);
    });
  }

  for (const junk of ['2024-05-01  12:00:00Z', '2024-05-01_12:00:00Z', '2024-05-01T12:00:00Z ', '2024-05-01t12:00:00 Z',
    '2024-05-01T12:00:60Z', '2024-05-01T12:00:00UTC', '20240501T120000Z', '2024-05-01T12:00:00.Z', '2024-5-1T12:00:00Z']) {
    it(`still refuses ${JSON.stringify(junk)}`, () => {
      const job = validJob();
      job.createdAt = junk;
      assert.deepEqual(expectErrors(parseBetPair(job, limits)), [
        `createdAt (${JSON.stringify(junk)}) must be an RFC 3339 date-time with a zone (like 2024-05-01T12:00:00Z)`,
      ]);
    });
  }
});
