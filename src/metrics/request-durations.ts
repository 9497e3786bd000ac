import { Histogram, type Registry } from 'prom-client';

/** The route label of a request no route matched (a 404, a probe of random paths): never its raw path. */
export const UNMATCHED = 'unmatched';
/** The route label once MAX_ROUTES distinct patterns were seen (there are fewer: a guard, not a limit in use). */
export const OTHER_ROUTE = 'other';
export const MAX_ROUTES = 64;

/** Seconds: from a cache hit (well under a millisecond) to a slow Google call (the 10 s default timeout). */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}

/**
 * firebridge_request_duration_seconds{route, status_class}: `route` is the matched route pattern
 * (`/v1/me`, never `/v1/<a token>`), `unmatched` when none matched; `status_class` is 2xx..5xx. Both
 * sets are fixed by the code, and the route set is capped besides, so no request can add a series.
 */
export class RequestDurations {
  private readonly histogram: Histogram<'route' | 'status_class'>;
  private readonly routes = new Set<string>();

  constructor(registry: Registry) {
    this.histogram = new Histogram({
      name: 'firebridge_request_duration_seconds',
      help: 'HTTP requests by route pattern and status class: time from arrival to the last byte of the answer',
      labelNames: ['route', 'status_class'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
  }

  /** One finished request; `route` undefined when no route matched. */
  observe(route: string | undefined, status: number, seconds: number): void {
    this.histogram.observe({ route: this.routeLabel(route), status_class: statusClass(status) }, seconds);
  }

  private routeLabel(route: string | undefined): string {
    if (route === undefined) return UNMATCHED;
    if (this.routes.has(route)) return route;
    if (this.routes.size >= MAX_ROUTES) return OTHER_ROUTE;
    this.routes.add(route);
    return route;
  }
}
