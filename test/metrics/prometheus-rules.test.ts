// The example Prometheus config and alert rules (ops/prometheus): well-formed, and every metric they use is served by a real worker.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { createHarness, makePair, type Harness } from '../support/harness.js';
import { exposedNames, scrape, type Scrape } from './scrape.js';

const opsDir = join(import.meta.dirname, '..', '..', 'ops', 'prometheus');

/** Metrics Prometheus makes itself for each target: never in a /metrics answer. */
const prometheusMetrics = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

/** Prometheus's own checker, where it is installed (Debian: apt-get install prometheus); CI has it not. */
const promtool = spawnSync('promtool', ['--version']).status === 0;

const promqlKeywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

function loadYaml(name: string): unknown {
  const doc = parseDocument(readFileSync(join(opsDir, name), 'utf8'), { prettyErrors: true, uniqueKeys: true });
  assert.deepEqual(doc.errors.map((e) => e.message), [], `${name} parses`);
  return doc.toJS();
}

/**
 * The metric names a PromQL expression selects: identifiers left once strings, label matchers, ranges and
 * label lists (by, without, on, ignoring, group_left/right) and numbers are taken out, that are not functions or keywords.
 */
function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    // Numbers and durations (0.99, 5m, 1e3).
    .replace(/(?<![A-Za-z0-9_:])[0-9][A-Za-z0-9_.]*/g, ' ');
  const names: string[] = [];
  for (const match of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = match[0];
    const rest = stripped.slice((match.index ?? 0) + name.length);
    if (/^\s*\(/.test(rest) || promqlKeywords.has(name.toLowerCase())) continue;
    names.push(name);
  }
  return names;
}

interface Rule {
  alert?: unknown;
  expr?: unknown;
  for?: unknown;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

function rulesOf(alerts: unknown): Rule[] {
  const groups = (alerts as { groups?: Array<{ name?: unknown; rules?: Rule[] }> }).groups;
  assert.ok(Array.isArray(groups) && groups.length > 0, 'alerts.yml has groups');
  return groups.flatMap((g) => {
    assert.equal(typeof g.name, 'string', 'each group is named');
    assert.ok(Array.isArray(g.rules) && g.rules.length > 0, `group ${String(g.name)} has rules`);
    return g.rules;
  });
}

describe('metricNamesIn (the PromQL reader the rules check relies on)', () => {
  it('finds selected metrics and leaves out functions, label lists, matchers and ranges', () => {
    assert.deepEqual(
      metricNamesIn('histogram_quantile(0.99, sum by (provider, le) (rate(a_seconds_bucket{job="x", le!="+Inf"}[5m]))) > 2 or absent(up{job="w"}) and on (instance) b_total offset 5m'),
      ['a_seconds_bucket', 'up', 'b_total'],
    );
  });
});

describe('ops/prometheus', () => {
  let h: Harness;
  let served: Scrape;
  let config: Record<string, unknown>;
  let rules: Rule[];

  before(async () => {
    config = loadYaml('prometheus.yml') as Record<string, unknown>;
    rules = rulesOf(loadYaml('alerts.yml'));
    h = await createHarness();
    const running = await h.startWorker({ metricsPort: 0 });
    const pairs = [makePair(), makePair()];
    for (const pair of pairs) await h.enqueue(pair);
    for (const pair of pairs) {
      const end = await h.waitForEvent(pair.arbId, ['arb_executed', 'arb_failed', 'arb_blocked', 'exposure_alert', 'arb_rejected'], 30_000);
      assert.equal(end.type, 'arb_executed', JSON.stringify(end.data));
    }
    served = await scrape(running.metrics.url ?? '');
  });
  after(async () => h.close());

  it('prometheus.yml loads the rules file beside it and scrapes the worker and API jobs', () => {
    const ruleFiles = config.rule_files as string[];
    assert.ok(Array.isArray(ruleFiles) && ruleFiles.length > 0);
    for (const file of ruleFiles) assert.ok(existsSync(join(opsDir, file)), `${file} exists beside prometheus.yml`);
    const jobs = (config.scrape_configs as Array<{ job_name: string; metrics_path?: string; static_configs: Array<{ targets: string[] }> }>);
    assert.deepEqual(jobs.map((j) => j.job_name).sort(), ['bet-executor-api', 'bet-executor-worker']);
    for (const job of jobs) {
      assert.equal(job.metrics_path ?? '/metrics', '/metrics');
      for (const target of job.static_configs.flatMap((c) => c.targets)) assert.match(target, /^[A-Za-z0-9.-]+:\d{1,5}$/, `${job.job_name} target ${target}`);
    }
  });

  it('every alert is named once, with an expression, a severity and a summary', () => {
    const names = rules.map((r) => r.alert);
    assert.equal(new Set(names).size, names.length, 'alert names are unique');
    for (const rule of rules) {
      assert.match(String(rule.alert), /^BetExecutor[A-Z][A-Za-z]+$/);
      assert.equal(typeof rule.expr, 'string', `${String(rule.alert)} has an expr`);
      if (rule.for !== undefined) assert.match(String(rule.for), /^\d+[smh]$/, `${String(rule.alert)} for`);
      assert.ok(['page', 'warning'].includes(String(rule.labels?.severity)), `${String(rule.alert)} severity`);
      assert.equal(typeof rule.annotations?.summary, 'string', `${String(rule.alert)} summary`);
      assert.equal(typeof rule.annotations?.description, 'string', `${String(rule.alert)} description`);
    }
  });

  it('covers open exposures, their age, liveness, kill switches, bookmaker latency, in-doubt placements and queue lag', () => {
    const used = new Set(rules.flatMap((r) => metricNamesIn(String(r.expr))));
    for (const name of [
      'bet_executor_exposures_open', 'bet_executor_exposure_oldest_open_age_seconds', 'up', 'bet_executor_kill_switches_engaged',
      'bet_executor_bookmaker_request_duration_seconds_bucket', 'bet_executor_placements_in_doubt_total', 'bet_executor_queue_oldest_waiting_age_seconds',
    ]) assert.ok(used.has(name), `a rule uses ${name}`);
  });

  it('uses only metrics a running worker serves (or that Prometheus makes itself)', () => {
    const exposed = exposedNames(served);
    assert.ok(exposed.has('bet_executor_pairs_total'), 'the scrape is a worker\'s');
    for (const rule of rules) {
      for (const name of metricNamesIn(String(rule.expr))) {
        assert.ok(exposed.has(name) || prometheusMetrics.has(name), `${String(rule.alert)} uses ${name}, which no worker serves`);
      }
    }
  });

  it('selects only jobs that prometheus.yml scrapes', () => {
    const jobs = new Set((config.scrape_configs as Array<{ job_name: string }>).map((j) => j.job_name));
    for (const rule of rules) {
      for (const [, job] of String(rule.expr).matchAll(/job="([^"]*)"/g)) assert.ok(jobs.has(job ?? ''), `${String(rule.alert)} selects job ${String(job)}`);
    }
  });

  it('passes promtool check config and check rules', { skip: promtool ? false : 'promtool is not installed' }, () => {
    const checked = spawnSync('promtool', ['check', 'config', 'prometheus.yml'], { cwd: opsDir, encoding: 'utf8' });
    assert.equal(checked.status, 0, `${checked.stdout}${checked.stderr}`);
  });
});
