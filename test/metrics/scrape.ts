// Scrapes a /metrics endpoint over HTTP and reads the Prometheus text format into samples, for the metrics tests.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  status: number;
  contentType: string;
  text: string;
  /** Metric family name → type, from the # TYPE lines. */
  types: Map<string, string>;
  samples: Sample[];
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/;
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      if (name && type) types.set(name, type);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const match = sampleLine.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(labelPair)) labels[key as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return { types, samples };
}

export async function scrape(url: string): Promise<Scrape> {
  const response = await fetch(url);
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, ...parseExposition(text) };
}

function matches(sample: Sample, labels: Record<string, string>): boolean {
  return Object.entries(labels).every(([key, value]) => sample.labels[key] === value);
}

/** Sum of the samples of one name whose labels include the given ones (0 when none). */
export function sumOf(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  return s.samples.filter((x) => x.name === name && matches(x, labels)).reduce((total, x) => total + x.value, 0);
}

/** The samples of one name. */
export function samplesOf(s: Scrape, name: string): Sample[] {
  return s.samples.filter((x) => x.name === name);
}

/** Every metric name a sample may carry: family names, and a histogram's _bucket/_sum/_count series. */
export function exposedNames(s: Scrape): Set<string> {
  const names = new Set<string>(s.samples.map((x) => x.name));
  for (const [name, type] of s.types) {
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}
