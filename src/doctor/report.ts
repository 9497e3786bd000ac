import type { ConfigError } from '../errors';
import type { CheckResult, CheckStatus } from './check';
import { type DoctorReport, summarize } from './run-doctor';

export const SYMBOLS: Record<CheckStatus, string> = { ok: '✓', warn: '⚠', error: '✗' };

/** Every problem of an invalid configuration, one ✗ each (nothing else is checked then). */
export function configProblemsReport(err: ConfigError): DoctorReport {
  return summarize(
    err.problems.map(
      (problem): CheckResult => ({
        id: 'config',
        name: 'configuration',
        status: 'error',
        message: problem.message,
        fix: `fix ${problem.setting} (see .env.example and README "Configuration"); the server would not start`,
      }),
    ),
  );
}

/** One line per check: the symbol, the name, what was found and what to do; then a summary. */
export function formatText(report: DoctorReport): string[] {
  const lines = report.checks.map((c) => `${SYMBOLS[c.status]} ${c.name}: ${c.message}${c.fix ? ` → ${c.fix}` : ''}`);
  const count = (status: CheckStatus) => report.checks.filter((c) => c.status === status).length;
  const errors = count('error');
  const warnings = count('warn');
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  lines.push('');
  lines.push(
    errors + warnings === 0
      ? `all ${report.checks.length} checks passed`
      : `${plural(errors, 'error')}, ${plural(warnings, 'warning')} (${report.checks.length} checks)`,
  );
  return lines;
}

/** The --json document: {status, exitCode, mode?, checks: [{id, name, status, message, fix?, skipped?}]}. */
export function formatJson(report: DoctorReport): string {
  return JSON.stringify(report, null, 2);
}
