import { ConfigError } from '../errors';
import { bool } from './hardening';
import { type Env, int, str } from './parse';
import { ConfigProblems } from './problems';
import { bearerSecretProblem } from './secret-strength';

/** GET /metrics in the Prometheus text format (src/metrics/, served by src/http/routes/metrics.ts). */
export interface MetricsSettings {
  /** METRICS_ENABLED: serve /metrics at all (default true). */
  enabled: boolean;
  /**
   * METRICS_PORT: serve /metrics on its own listener on this port (0: a free one), bound to `host`, and not
   * on the main port. Unset: /metrics is on the main port.
   */
  port?: number;
  /** METRICS_HOST: the address of the metrics listener (default 127.0.0.1); only with METRICS_PORT. */
  host: string;
  /** METRICS_TOKEN: when set, a scrape needs `Authorization: Bearer <this>` (on whichever port serves it). */
  token?: string;
}

export const DEFAULT_METRICS_HOST = '127.0.0.1';

/** `mainPort` is PORT (METRICS_PORT must differ); `otherSecrets` the bearer secrets METRICS_TOKEN must not repeat. */
export function metricsSettings(env: Env, mainPort: number, otherSecrets: Record<string, string | undefined> = {}): MetricsSettings {
  const problems = new ConfigProblems();
  const read = <T>(parse: () => T, fallback: T): T => problems.read(parse, fallback);
  const enabled = read(() => bool(env, 'METRICS_ENABLED', true), true);
  const port = str(env, 'METRICS_PORT') === undefined ? undefined : read(() => int(env, 'METRICS_PORT', 0, 0, 65535), undefined);
  if (port !== undefined && port !== 0 && port === mainPort) {
    problems.add(new ConfigError('METRICS_PORT', `must differ from PORT (${mainPort}); unset it to serve /metrics on the main port`));
  }
  const host = str(env, 'METRICS_HOST');
  if (host !== undefined && str(env, 'METRICS_PORT') === undefined) {
    problems.add(new ConfigError('METRICS_HOST', 'applies only to the metrics listener of METRICS_PORT, which is not set'));
  }
  if (host !== undefined && /[\s/]/.test(host)) problems.add(new ConfigError('METRICS_HOST', `must be an address or host name, got "${host}"`));
  const token = str(env, 'METRICS_TOKEN');
  if (token !== undefined) {
    const problem = bearerSecretProblem('METRICS_TOKEN', token);
    if (problem) problems.add(problem);
    for (const [name, secret] of Object.entries(otherSecrets)) {
      // A Prometheus config holding the scrape credential must not also hold an API's.
      if (secret !== undefined && secret === token) problems.add(new ConfigError('METRICS_TOKEN', `must not be the same secret as ${name}`));
    }
  }
  problems.throwIfAny();
  return {
    enabled,
    ...(port !== undefined ? { port } : {}),
    host: host ?? DEFAULT_METRICS_HOST,
    ...(token !== undefined ? { token } : {}),
  };
}
