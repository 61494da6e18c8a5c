// Bounded label values: a label never takes an identifier (arbId, accountId…), and never more values than its limit.

/** The value a label takes when the real one is not allowed (unknown, malformed, or past the limit). */
export const otherLabelValue = 'other';

/** What a reason-like value must look like to become a label value: a snake_case word from the code, not data. */
const wordPattern = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * The values one label may take. With a fixed set (providers from the config, legs, outcome kinds) anything
 * else is `other`; with an open set (reasons named by the code) a value must be a snake_case word, and
 * after `distinctMax` distinct values every new one is `other`, so a bug that put data in a reason cannot
 * grow the series without bound.
 */
export class LabelValues {
  private readonly seen: Set<string>;

  private constructor(private readonly fixed: boolean, values: Iterable<string>, private readonly distinctMax: number) {
    this.seen = new Set(values);
  }

  static fixed(values: Iterable<string>): LabelValues {
    return new LabelValues(true, values, Number.POSITIVE_INFINITY);
  }

  static open(distinctMax: number, known: Iterable<string> = []): LabelValues {
    return new LabelValues(false, known, distinctMax);
  }

  of(value: unknown): string {
    if (typeof value !== 'string') return otherLabelValue;
    if (this.seen.has(value)) return value;
    if (this.fixed || !wordPattern.test(value) || this.seen.size >= this.distinctMax) return otherLabelValue;
    this.seen.add(value);
    return value;
  }

  /** The values known so far (a fixed set's values; an open set's values seen so far). */
  values(): string[] {
    return [...this.seen];
  }
}
