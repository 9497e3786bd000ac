import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { AppDeps } from '../http/app';
import { createHttpServer } from '../http/http-server';
import { createMetricsApp } from '../http/metrics-app';
import type { MetricsEndpoint } from '../http/routes/metrics';
import { type Metrics, createMetrics } from '../metrics/metrics';
import type { MetricSources } from '../metrics/sources';

export interface MetricsWiring {
  /** The registry; undefined with METRICS_ENABLED=false. */
  metrics?: Metrics;
  /** What the main app gets: the request observer, and GET /metrics unless METRICS_PORT serves it. */
  app?: AppDeps['metrics'];
}

/** GET /metrics of `metrics`, behind METRICS_TOKEN when set. */
function endpointOf(metrics: Metrics, token: string | undefined): MetricsEndpoint {
  return { contentType: metrics.contentType, render: metrics.render, ...(token !== undefined ? { token } : {}) };
}

/** The app's metrics from the components' counts, per METRICS_ENABLED / METRICS_PORT / METRICS_TOKEN. */
export function wireMetrics(config: Pick<Config, 'metrics'>, sources: MetricSources): MetricsWiring {
  const settings = config.metrics;
  if (!settings.enabled) return {};
  const metrics = createMetrics(sources);
  const endpoint = endpointOf(metrics, settings.token);
  return {
    metrics,
    app: { observeRequest: metrics.observeRequest, ...(settings.port === undefined ? { endpoint } : {}) },
  };
}

/** The metrics listener of METRICS_PORT on METRICS_HOST (only GET /metrics), or undefined when /metrics is on the main port. */
export async function startMetricsServer(
  config: Pick<Config, 'metrics' | 'http'>,
  metrics: Metrics | undefined,
  logger: Logger,
): Promise<{ server: Server; url: string } | undefined> {
  const { port, host, token } = config.metrics;
  if (metrics === undefined || port === undefined) return undefined;
  const server = createHttpServer(createMetricsApp(endpointOf(metrics, token), logger), config.http).listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shown === '0.0.0.0' ? '127.0.0.1' : shown}:${address.port}`;
  logger.info({ url: `${url}/metrics` }, 'metrics listening');
  return { server, url };
}
