// The checker's report for people; `--json` adds the whole report as one line.
import type { CheckReport } from './check.js';

const TOP_REASONS = 10;
const SHOWN_FAILURES = 10;
const SHOWN_TEXT = 80;

export function formatReport(report: CheckReport, wallMs: number): string {
  const lines = [
    `schemas ${report.schemas}, compiled ${report.compiled}, passed all ${report.passed_all} (${report.tests} tests, ${report.walks} serialized walks, ${(wallMs / 1000).toFixed(1)} s)`,
    `false rejections ${report.false_rejections}, false acceptances ${report.false_acceptances}, crashes ${report.crashes}, timeouts ${report.timeouts}, not compiled ${report.not_compiled}, automaton overflows ${report.automaton_overflows}, mask mismatches ${report.mask_mismatches}`,
    `  by serialization: ${Object.entries(report.by_format)
      .map(([format, c]) => `${format} ${c.false_rejections} FR / ${c.false_acceptances} FA`)
      .join(', ')}`,
    `compile ms: p50 ${report.compile_ms_p50}, p75 ${report.compile_ms_p75}, max ${report.compile_ms_max}`,
    `mask us (${report.masks_timed} full masks): avg ${report.mask_us_avg}, p50 ${report.mask_us_p50}, p99 ${report.mask_us_p99}, max ${report.mask_us_max}`,
  ];
  if (report.retokenized > 0) lines.push(`texts cut again into exact tokens: ${report.retokenized}`);
  if (report.not_compiled_reasons.length > 0) {
    lines.push('top not-compiled reasons:');
    for (const { reason, count } of report.not_compiled_reasons.slice(0, TOP_REASONS))
      lines.push(`${String(count).padStart(7)}  ${reason}`);
  }
  for (const { file, message } of report.crash_details) lines.push(`crash: ${file}: ${message}`);
  for (const f of report.failures.slice(0, SHOWN_FAILURES)) {
    const text = f.text.length > SHOWN_TEXT ? `${f.text.slice(0, SHOWN_TEXT)}...` : f.text;
    const where = f.at === -1 ? 'accepted whole' : `at token ${f.at}`;
    lines.push(`${f.kind}: ${f.file} test ${f.test} ${f.format} ${where}: ${JSON.stringify(text)}`);
  }
  return lines.join('\n');
}
