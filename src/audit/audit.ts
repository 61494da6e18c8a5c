// `bet-executor audit`: starts a private world, runs every scenario (independent lanes concurrently), judges, reports.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadConfigFile, parseConfig, type Config } from '../config.js';
import { missingSettings, reviewConfig } from './config-review.js';
import { renderHtml, renderMarkdown, renderText, progressLine, verdictOf, type AuditReport } from './report.js';
import { hedgeFailureScenario, inFlightCooldownScenario, inFlightScenario, isolationScenario, orderScenario, settlementScenario } from './scenarios-contract.js';
import { circuitScenario, crashScenario, failClosedScenario, frozenScenario, inDoubtScenario, killSwitchScenario, lateScenario, malformedScenario, rateLimitScenario } from './scenarios-missed.js';
import type { ItemDef, ItemOutcome, ItemResult, Scenario, ScenarioContext } from './types.js';
import { auditTimings, packageRoot, replacedKeys, startWorld, type ExecutorKind } from './world.js';

export const scenarios: Scenario[] = [
  orderScenario, inFlightScenario, inFlightCooldownScenario, settlementScenario, hedgeFailureScenario, isolationScenario,
  inDoubtScenario, malformedScenario, killSwitchScenario,
  failClosedScenario, crashScenario, frozenScenario, rateLimitScenario,
  circuitScenario, lateScenario,
];

export function allItems(): ItemDef[] {
  return scenarios.flatMap((s) => s.items);
}

export interface AuditOptions {
  configFile?: string;
  seed: number;
  /** Item ids, group keys or id prefixes; empty = everything. */
  only: string[];
  executor: ExecutorKind;
  reportFile?: string;
  /** Progress lines (stderr by default). */
  progress(line: string): void;
}

function selected(def: ItemDef, only: string[]): boolean {
  return only.length === 0 || only.some((o) => def.id === o || def.group === o || def.id.startsWith(o));
}

function versions(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  const dep = (name: string) => {
    try {
      return (JSON.parse(readFileSync(join(packageRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  let redis = 'unknown';
  try {
    redis = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1] ?? 'unknown';
  } catch { /* reported as unknown */ }
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['-C', packageRoot, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch { /* not a checkout */ }
  return { 'bet-executor': `${pkg.version} (${commit})`, node: process.version, 'redis-server': redis, bullmq: dep('bullmq'), ioredis: dep('ioredis') };
}

function loadOperatorConfig(file: string | undefined): { config: Config; raw: Record<string, unknown>; digest: string } {
  if (file === undefined) {
    // Defaults: one placeholder provider, replaced by the simulators like any operator's providers.
    const raw = {};
    return { config: parseConfig({ providers: { book: { url: 'http://127.0.0.1:9' } } }), raw, digest: createHash('sha256').update('{}').digest('hex').slice(0, 16) };
  }
  const text = readFileSync(file, 'utf8');
  const config = loadConfigFile(file);
  return { config, raw: JSON.parse(text) as Record<string, unknown>, digest: createHash('sha256').update(text).digest('hex').slice(0, 16) };
}

export async function runAudit(options: AuditOptions): Promise<AuditReport> {
  const startedAtMs = Date.now();
  const operator = loadOperatorConfig(options.configFile);
  const chosen = scenarios.filter((s) => s.items.some((i) => selected(i, options.only)));
  const wanted = chosen.flatMap((s) => s.items.filter((i) => selected(i, options.only)));
  if (wanted.length === 0) throw new Error(`--only ${options.only.join(',')} selects no item; items: ${allItems().map((i) => i.id).join(', ')}`);
  const results = new Map<string, ItemResult>();
  const world = await startWorld({ baseRaw: operator.raw, executor: options.executor });
  const notes = [...missingSettings()];
  try {
    const main = await world.group('main', {}, { queueName: operator.config.queueName });
    await Promise.all([main.spawn(), main.spawn()]);
    await main.waitForWorkers(2);
    options.progress(`world up in ${Date.now() - startedAtMs} ms: redis ${world.redis.url}, simulators ${world.bookA.url} ${world.bookB.url}, 2 ${options.executor} worker processes on ${operator.config.queueName}; ${wanted.length} items`);
    const ctx: ScenarioContext = { world, main, tag: `s${options.seed}`, log: options.progress, selected: (id) => wanted.some((def) => def.id === id) };
    const runScenario = async (scenario: Scenario) => {
      const began = Date.now();
      const report = (id: string, outcome: ItemOutcome) => {
        const def = scenario.items.find((i) => i.id === id);
        if (!def || !selected(def, options.only) || results.has(id)) return;
        const result: ItemResult = { ...def, ...outcome, elapsedMs: Date.now() - began };
        results.set(id, result);
        options.progress(progressLine(result, startedAtMs, results.size, wanted.length));
      };
      try {
        await scenario.run(ctx, report);
      } catch (error) {
        for (const def of scenario.items) report(def.id, { status: 'FAIL', did: scenario.name, evidence: `scenario stopped: ${(error as Error).message}` });
      }
      for (const def of scenario.items) report(def.id, { status: 'FAIL', did: scenario.name, evidence: 'the scenario ended without judging this item' });
    };
    const lane = (name: Scenario['lane']) => chosen.filter((s) => s.lane === name);
    const sequential = async (list: Scenario[]) => {
      for (const s of list) await runScenario(s);
    };
    await Promise.all([sequential(lane('main')), ...lane('aux').map(runScenario), ...lane('crash').map(runScenario)]);
    await sequential(lane('late'));
  } finally {
    await world.close();
  }
  const items = wanted.map((def) => results.get(def.id) ?? { ...def, status: 'FAIL' as const, did: '', evidence: 'not run', elapsedMs: 0 });
  const { verdict, reasons } = verdictOf(items, options.only.length > 0);
  const report: AuditReport = {
    verdict, reasons, items,
    counts: { pass: items.filter((i) => i.status === 'PASS').length, fail: items.filter((i) => i.status === 'FAIL').length, skip: items.filter((i) => i.status === 'SKIP').length },
    warnings: reviewConfig(operator.config, operator.raw),
    notes,
    meta: {
      date: new Date(startedAtMs).toISOString(), seed: options.seed, executor: options.executor,
      testDefects: process.env.BET_EXECUTOR_TEST_DEFECT ?? null, only: options.only.length ? options.only : null,
      configFile: options.configFile ?? null, configDigest: operator.digest, versions: versions(), elapsedMs: Date.now() - startedAtMs,
      overridden: [...replacedKeys, ...Object.entries(auditTimings).map(([k, v]) => `${k}=${v}`), 'circuitBreaker.enabled=false (every group but the circuit scenario\'s)'],
    },
  };
  if (options.reportFile) writeFileSync(options.reportFile, options.reportFile.endsWith('.html') ? renderHtml(report) : renderMarkdown(report));
  return report;
}

export { renderText };
