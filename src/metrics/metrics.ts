import { Registry, collectDefaultMetrics } from 'prom-client';
import { registerCollectors } from './collectors';
import { RequestDurations } from './request-durations';
import type { MetricSources } from './sources';

/** One app's metrics: its own registry (never prom-client's global one), scraped by GET /metrics. */
export interface Metrics {
  registry: Registry;
  /** The Prometheus text format's content type. */
  contentType: string;
  /** The scrape: every collector reads its component now. */
  render(): Promise<string>;
  /** One finished HTTP request (the request logger calls it): route pattern or undefined, status, seconds. */
  observeRequest(route: string | undefined, status: number, seconds: number): void;
}

/**
 * A registry with the process defaults (collectDefaultMetrics: CPU, memory, event loop lag, GC,
 * handles), every firebridge collector reading `sources`, and the request-duration histogram.
 */
export function createMetrics(sources: MetricSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerCollectors(registry, sources);
  const durations = new RequestDurations(registry);
  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    observeRequest: (route, status, seconds) => durations.observe(route, status, seconds),
  };
}
