import type { Config } from '../config';
import { isLoopbackHost } from '../config/local-mode';
import { type CheckStatus, type DoctorCheck, type Verdict, ok } from './check';

/** One finding about settings that are each valid but unsafe together. */
interface Finding {
  status: Exclude<CheckStatus, 'ok'>;
  message: string;
  fix: string;
}

type Rule = (config: Config) => Finding | undefined;

/** TRUST_PROXY entries that match every address (a /0 range). */
function everyAddress(entry: string): boolean {
  const [, bits] = entry.split('/');
  return bits !== undefined && Number(bits) === 0;
}

const RULES: readonly Rule[] = [
  // Local mode: an emulated Google that vouches for any identity.
  (config) =>
    config.mode === 'local' && !isLoopbackHost(config.host)
      ? {
          status: 'error',
          message: `local mode listens on HOST=${config.host} (LOCAL_MODE_PUBLIC=true): anyone who reaches it can mint a token for any identity`,
          fix: 'only on a trusted LAN and only while testing; unset LOCAL_MODE_PUBLIC and HOST otherwise',
        }
      : undefined,
  (config) =>
    config.mode === 'local'
      ? {
          status: 'warn',
          message: 'local mode (neither FIREBASE_PROJECT_ID nor GOOGLE_CLIENT_IDS is set): an emulated Google, demo- project, tokens for any identity',
          fix: 'fine on a laptop; for a deployment set FIREBASE_PROJECT_ID and GOOGLE_CLIENT_IDS',
        }
      : undefined,
  // TRUST_PROXY believing everyone: any client can claim any IP (rate limits, logs, forward-auth rules by IP).
  (config) => {
    const wide = config.hardening.trustProxy.filter(everyAddress);
    return wide.length > 0
      ? {
          status: 'error',
          message: `TRUST_PROXY ${wide.join(', ')} believes X-Forwarded-For from any address: every client can forge its IP and escape the rate limits`,
          fix: 'list only your proxies\' addresses or ranges (or loopback, uniquelocal)',
        }
      : undefined;
  },
  // ---------------------------------------------------------------------------------------------
  // METRICS (integrator): the METRICS_* settings (METRICS_ENABLED, METRICS_PORT, METRICS_HOST) land in
  // a parallel branch. Add their rule here: /metrics on the main port while HOST is not loopback, or
  // METRICS_HOST not loopback, is a 'warn' ("metrics exposed publicly"; fix: METRICS_PORT with
  // METRICS_HOST=127.0.0.1, or METRICS_ENABLED=false). Test it in test/doctor/unsafe-settings.test.ts.
  // ---------------------------------------------------------------------------------------------
];

/**
 * Settings that are each valid but unsafe together: local mode (and local mode on the network),
 * TRUST_PROXY of 0.0.0.0/0 or ::/0, and (wired by the integrator) metrics exposed publicly.
 */
export const unsafeSettingsCheck: DoctorCheck = {
  id: 'unsafe-settings',
  name: 'unsafe settings',
  async run({ config }): Promise<Verdict> {
    const findings = RULES.map((rule) => rule(config)).filter((f): f is Finding => f !== undefined);
    if (findings.length === 0) return ok('no unsafe combination of settings found');
    return {
      status: findings.some((f) => f.status === 'error') ? 'error' : 'warn',
      message: findings.map((f) => f.message).join('; '),
      fix: findings.map((f) => f.fix).join('; '),
    };
  },
};
