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

/** Who can reach an address: loopback, a private range, every interface, a public address, or a host name. */
function addressReach(host: string): 'loopback' | 'private' | 'all' | 'public' | 'unknown' {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (isLoopbackHost(bare)) return 'loopback';
  if (bare === '0.0.0.0' || bare === '::') return 'all';
  const v4 = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(bare);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    const isPrivate = a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
    return isPrivate ? 'private' : 'public';
  }
  if (bare.includes(':')) return /^(fc|fd|fe[89ab])/.test(bare) ? 'private' : 'public';
  return 'unknown'; // a host name: what it resolves to is not ours to guess
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
  // The official Auth Emulator's tokens are unsigned (alg none): whoever reaches the server can write one for any uid.
  (config) => {
    if (config.mode !== 'configured' || config.authEmulator === undefined) return undefined;
    const reachable = !isLoopbackHost(config.host);
    return {
      status: reachable ? 'error' : 'warn',
      message: reachable
        ? `FIREBASE_AUTH_EMULATOR_HOST is set and the server listens on HOST=${config.host}: it accepts unsigned (alg none) ` +
          'Firebase ID tokens, so anyone who reaches it can sign in as any uid of the project'
        : 'FIREBASE_AUTH_EMULATOR_HOST is set: unsigned (alg none) Firebase ID tokens are accepted, and custom tokens are unsigned',
      fix: reachable
        ? 'unset FIREBASE_AUTH_EMULATOR_HOST on any server others reach (and set NODE_ENV=production, which refuses it); for development set HOST=127.0.0.1'
        : 'fine for development against the Auth Emulator; unset FIREBASE_AUTH_EMULATOR_HOST anywhere real users sign in',
    };
  },
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
  // /metrics reveals operational data (traffic and error reasons, key ages and kids, the process): exposed without a
  // scrape credential on an address others reach, it is a map for an attacker.
  (config) => {
    const { metrics } = config;
    if (!metrics.enabled || metrics.token !== undefined) return undefined;
    const where = metrics.port === undefined ? { host: config.host, what: 'on the main port' } : { host: metrics.host, what: `on METRICS_PORT ${metrics.port}` };
    const reach = addressReach(where.host);
    if (reach === 'loopback' || reach === 'unknown') return undefined;
    if (reach === 'private' && metrics.port !== undefined) return undefined; // the intended setup: a pod IP, a private interface
    return {
      status: 'warn',
      message:
        `metrics exposed publicly: GET /metrics is served ${where.what}, bound to ${where.host}` +
        `${reach === 'all' ? ' (every interface)' : ''}, with no METRICS_TOKEN: anyone who reaches it reads traffic, error reasons and key ages`,
      fix:
        'set METRICS_PORT (with METRICS_HOST=127.0.0.1 or a private address Prometheus reaches), or METRICS_TOKEN; ' +
        'on the main port, make sure your proxy never forwards /metrics; or METRICS_ENABLED=false',
    };
  },
];

/**
 * Settings that are each valid but unsafe together: local mode (and local mode on the network),
 * FIREBASE_AUTH_EMULATOR_HOST (unsigned tokens; off loopback an error), TRUST_PROXY of 0.0.0.0/0 or ::/0, and metrics exposed publicly (no METRICS_TOKEN, on an address others reach).
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
