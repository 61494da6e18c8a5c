// The audit's report: the verdict rule, the live progress line, the table, Markdown, HTML and JSON.
import { groups, type GroupKey, type ItemResult } from './types.js';
import type { ConfigWarning } from './config-review.js';

export interface AuditReport {
  verdict: 'YES' | 'NO';
  /** Why NO: the failed items first, then the skipped ones ("not built"). */
  reasons: string[];
  counts: { pass: number; fail: number; skip: number };
  items: ItemResult[];
  warnings: ConfigWarning[];
  notes: string[];
  meta: {
    date: string; seed: number; executor: string; testDefects: string | null; only: string[] | null;
    configFile: string | null; configDigest: string; versions: Record<string, string>; elapsedMs: number;
    overridden: string[];
  };
}

/**
 * The verdict rule: YES only when every item ran and PASSED. A FAIL makes it NO; so does a SKIP (a check that
 * could not run, or a recommended feature not built, is not evidence of safety). A run restricted with --only
 * is never YES: it did not check everything.
 */
export function verdictOf(items: ItemResult[], partial: boolean): { verdict: 'YES' | 'NO'; reasons: string[] } {
  const failed = items.filter((i) => i.status === 'FAIL');
  const skipped = items.filter((i) => i.status === 'SKIP');
  const reasons = [
    ...failed.map((i) => `FAIL ${i.id}: ${i.evidence}`),
    ...skipped.map((i) => `SKIP ${i.id}: ${i.evidence}`),
    ...(partial ? ['partial run (--only): not every item was checked'] : []),
  ];
  return { verdict: reasons.length === 0 && items.length > 0 ? 'YES' : 'NO', reasons };
}

export function progressLine(result: ItemResult, startedAtMs: number, done: number, total: number): string {
  const t = ((Date.now() - startedAtMs) / 1000).toFixed(1).padStart(5);
  return `[${t} s ${String(done).padStart(2)}/${total}] ${result.status.padEnd(4)} ${result.id}: ${result.evidence}`;
}

function ordered(items: ItemResult[]): ItemResult[] {
  const groupOrder = Object.keys(groups) as GroupKey[];
  return [...items].sort((a, b) => groupOrder.indexOf(a.group) - groupOrder.indexOf(b.group));
}

export function renderText(report: AuditReport): string {
  const lines: string[] = [];
  let group = '';
  const width = Math.max(...report.items.map((i) => i.id.length), 10);
  for (const item of ordered(report.items)) {
    if (item.group !== group) {
      group = item.group;
      lines.push('', groups[item.group]);
    }
    lines.push(`  ${item.status.padEnd(4)}  ${item.id.padEnd(width)}  ${item.title}`);
    lines.push(`  ${''.padEnd(4)}  ${''.padEnd(width)}  did: ${item.did}`);
    lines.push(`  ${''.padEnd(4)}  ${''.padEnd(width)}  saw: ${item.evidence}`);
  }
  lines.push('');
  if (report.warnings.length > 0) {
    lines.push('Config warnings (not part of the verdict):');
    for (const w of report.warnings) lines.push(`  WARN ${w.key} = ${w.value}: ${w.reason}`);
    lines.push('');
  }
  for (const note of report.notes) lines.push(`note: ${note}`);
  lines.push(`${report.counts.pass} PASS, ${report.counts.fail} FAIL, ${report.counts.skip} SKIP in ${(report.meta.elapsedMs / 1000).toFixed(1)} s (seed ${report.meta.seed}, executor ${report.meta.executor}${report.meta.testDefects ? `, TEST DEFECTS ${report.meta.testDefects}` : ''})`);
  lines.push(`SAFE FOR REAL MONEY: ${report.verdict}`);
  for (const reason of report.reasons) lines.push(`  ${reason}`);
  return lines.join('\n');
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

export function renderMarkdown(report: AuditReport): string {
  const m = report.meta;
  const out = [
    '# bet-executor safety audit',
    '',
    `**SAFE FOR REAL MONEY: ${report.verdict}** — ${report.counts.pass} PASS, ${report.counts.fail} FAIL, ${report.counts.skip} SKIP`,
    '',
    ...report.reasons.map((r) => `- ${cell(r)}`),
    '',
    '| | |', '|---|---|',
    `| date | ${m.date} |`, `| seed | ${m.seed} |`, `| executor under test | ${m.executor}${m.testDefects ? ` (TEST DEFECTS: ${m.testDefects})` : ''} |`,
    `| config | ${m.configFile ?? 'defaults'} (sha256 ${m.configDigest}) |`,
    `| replaced for the run | ${cell(m.overridden.join(', '))} |`,
    ...Object.entries(m.versions).map(([k, v]) => `| ${k} | ${v} |`),
    `| duration | ${(m.elapsedMs / 1000).toFixed(1)} s |`,
    ...(m.only ? [`| only | ${m.only.join(', ')} |`] : []),
    '',
  ];
  let group = '';
  for (const item of ordered(report.items)) {
    if (item.group !== group) {
      group = item.group;
      out.push('', `## ${groups[item.group]}`, '', '| item | what was done | evidence | result |', '|---|---|---|---|');
    }
    out.push(`| \`${item.id}\` ${cell(item.title)} | ${cell(item.did)} | ${cell(item.evidence)} | **${item.status}** |`);
  }
  out.push('', '## Config warnings', '');
  out.push(...(report.warnings.length ? report.warnings.map((w) => `- \`${w.key}\` = ${cell(w.value)}: ${cell(w.reason)}`) : ['none']));
  if (report.notes.length) out.push('', ...report.notes.map((n) => `- ${cell(n)}`));
  return `${out.join('\n')}\n`;
}

function esc(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

export function renderHtml(report: AuditReport): string {
  const rows = ordered(report.items).map((i) => `<tr class="${i.status}"><td>${esc(groups[i.group])}</td><td><code>${esc(i.id)}</code><br>${esc(i.title)}</td><td>${esc(i.did)}</td><td>${esc(i.evidence)}</td><td><b>${i.status}</b></td></tr>`).join('\n');
  const m = report.meta;
  return `<!doctype html><html><head><meta charset="utf-8"><title>bet-executor audit: ${report.verdict}</title>
<style>body{font-family:sans-serif}td{vertical-align:top;border-top:1px solid #ccc;padding:4px}.FAIL{background:#fdd}.SKIP{background:#ffd}</style></head><body>
<h1>SAFE FOR REAL MONEY: ${report.verdict}</h1>
<ul>${report.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>
<p>${esc(m.date)} · seed ${m.seed} · executor ${esc(m.executor)}${m.testDefects ? ` · TEST DEFECTS ${esc(m.testDefects)}` : ''} · config ${esc(m.configFile ?? 'defaults')} sha256 ${m.configDigest} · ${Object.entries(m.versions).map(([k, v]) => `${esc(k)} ${esc(v)}`).join(' · ')}</p>
<table><tr><th>group</th><th>item</th><th>what was done</th><th>evidence</th><th>result</th></tr>
${rows}</table>
<h2>Config warnings</h2><ul>${report.warnings.map((w) => `<li><code>${esc(w.key)}</code> = ${esc(w.value)}: ${esc(w.reason)}</li>`).join('') || '<li>none</li>'}</ul>
</body></html>
`;
}
