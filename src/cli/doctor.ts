import pino from 'pino';
import { loadConfig } from '../config';
import { ConfigError } from '../errors';
import { configProblemsReport, formatJson, formatText } from '../doctor/report';
import { reasonOf } from '../doctor/check';
import { type DoctorReport, runDoctor, summarize } from '../doctor/run-doctor';
import type { CliIo } from './io';

export const DOCTOR_USAGE = [
  'usage: npm run doctor [-- --json]',
  '  checks the configuration the server would read (key files, Google, clock, Redis, database, FCM, unsafe settings)',
  '  one line per check: ✓ fine, ⚠ warning, ✗ error; exit 0 all fine, 1 warnings, 2 errors (64: bad usage)',
  '  --json   a JSON document instead: {status, exitCode, mode, checks: [{id, name, status, message, fix, skipped}]}',
].join('\n');

/** Exit status of a usage error (EX_USAGE): 0, 1 and 2 are the checks' verdicts. */
export const USAGE_EXIT = 64;

/** `npm run doctor [-- --json]`: 0 all fine, 1 warnings, 2 errors (an invalid configuration included), 64 usage. */
export async function runDoctorCli(argv: readonly string[], io: CliIo): Promise<number> {
  const json = argv.includes('--json');
  const unknown = argv.filter((arg) => arg !== '--json');
  if (unknown.length > 0) {
    const help = unknown.every((arg) => arg === '--help' || arg === '-h');
    (help ? io.stdout : io.stderr)(help ? DOCTOR_USAGE : `doctor: cannot understand "${unknown.join(' ')}"\n${DOCTOR_USAGE}`);
    return help ? 0 : USAGE_EXIT;
  }
  let report: DoctorReport;
  try {
    const config = loadConfig(io.env, io.cwd);
    report = await runDoctor({ config, fetch: io.fetch, clock: io.clock, logger: pino({ level: 'silent' }) });
  } catch (err) {
    // Checks never throw (each failure is its own ✗); what is left is the configuration, or a doctor bug: both exit 2.
    report = err instanceof ConfigError ? configProblemsReport(err) : summarize([{ id: 'doctor', name: 'doctor', status: 'error', message: `cannot run: ${reasonOf(err)}` }]);
  }
  if (json) io.stdout(formatJson(report));
  else for (const line of formatText(report)) io.stdout(line);
  return report.exitCode;
}
