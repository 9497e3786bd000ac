import type { KeySetCacheStats } from '../../src/jwt/key-set-cache';
import { createMetrics } from '../../src/metrics/metrics';
import { MAX_ROUTES, OTHER_ROUTE } from '../../src/metrics/request-durations';
import type { MetricSources } from '../../src/metrics/sources';
import { OutcomeCounts } from '../../src/outcomes';
import { manualClock } from '../../testkit/harness';
import { parseExposition } from '../../testkit/metrics';

const fresh: KeySetCacheStats = { fetches: 1, failures: 0, successes: 1, keys: 2, stale: false, failing: false, fetchedAt: 0 };

function sources(over: Partial<MetricSources> = {}): MetricSources {
  return { clock: manualClock(0), verifications: {}, keySets: [], googleApis: [], ...over };
}

async function scraped(metrics: ReturnType<typeof createMetrics>) {
  return parseExposition(await metrics.render());
}

describe('the collectors read the components when scraped', () => {
  it('key sets: age on the injected clock; stale only while the last fetch failed past the lifetime (or with no keys)', async () => {
    const clock = manualClock(0);
    let google: KeySetCacheStats = { ...fresh };
    const metrics = createMetrics(sources({ clock, keySets: [{ set: 'google', stats: () => google }] }));
    clock.advance(90_000);
    let s = await scraped(metrics);
    expect(s.value('firebridge_key_set_age_seconds', { set: 'google' })).toBe(90);
    expect(s.value('firebridge_key_set_stale', { set: 'google' })).toBe(0);
    expect(s.value('firebridge_key_set_keys', { set: 'google' })).toBe(2);

    // Past its lifetime but nobody asked (an idle server): not stale in the alerting sense.
    google = { ...fresh, stale: true };
    expect((await scraped(metrics)).value('firebridge_key_set_stale', { set: 'google' })).toBe(0);
    google = { ...fresh, fetches: 3, failures: 2, stale: true, failing: true };
    s = await scraped(metrics);
    expect(s.value('firebridge_key_set_stale', { set: 'google' })).toBe(1);
    expect(s.value('firebridge_key_set_fetches_total', { set: 'google', outcome: 'failure' })).toBe(2);
    expect(s.value('firebridge_key_set_fetches_total', { set: 'google', outcome: 'success' })).toBe(1);
    // Never fetched, and the fetch at start failed: stale, and no age sample.
    google = { fetches: 1, failures: 1, successes: 0, keys: 0, stale: false, failing: true };
    s = await scraped(metrics);
    expect(s.value('firebridge_key_set_stale', { set: 'google' })).toBe(1);
    expect(s.has('firebridge_key_set_age_seconds', { set: 'google' })).toBe(false);
  });

  it('Google APIs: summed over clients, circuit open when any client has it open', async () => {
    const a = { stats: () => [{ api: 'identitytoolkit', ok: 3, failed: 1, circuit: 'closed' as const }] };
    const b = {
      stats: () => [
        { api: 'identitytoolkit', ok: 1, failed: 5, circuit: 'open' as const },
        { api: 'iamcredentials', ok: 7, failed: 0, circuit: 'half-open' as const },
      ],
    };
    const s = await scraped(createMetrics(sources({ googleApis: [a, b] })));
    expect(s.value('firebridge_google_api_calls_total', { api: 'identitytoolkit', outcome: 'success' })).toBe(4);
    expect(s.value('firebridge_google_api_calls_total', { api: 'identitytoolkit', outcome: 'failure' })).toBe(6);
    expect(s.value('firebridge_circuit_open', { api: 'identitytoolkit' })).toBe(1);
    expect(s.value('firebridge_circuit_open', { api: 'iamcredentials' })).toBe(0);
  });

  it('signing key age from addedAt; outcome counters as they stand; store errors', async () => {
    const clock = manualClock(Date.parse('2026-04-01T00:00:00Z'));
    const exchanges = new OutcomeCounts();
    exchanges.succeeded();
    let errors = 0;
    const metrics = createMetrics(
      sources({
        clock,
        exchanges,
        signingKey: () => ({ kid: 'k1', addedAt: '2026-01-01T00:00:00Z' }),
        keyringReloads: { reloaded: 2, rejected: 1 },
        store: { errorCount: () => errors },
      }),
    );
    let s = await scraped(metrics);
    expect(s.value('firebridge_signing_key_age_seconds', { kid: 'k1' })).toBe(90 * 86_400);
    expect(s.value('firebridge_keyring_reloads_total', { outcome: 'reloaded' })).toBe(2);
    expect(s.value('firebridge_keyring_reloads_total', { outcome: 'rejected' })).toBe(1);
    expect(s.value('firebridge_exchanges_total', { outcome: 'success', reason: 'none' })).toBe(1);
    exchanges.succeeded();
    errors = 4;
    s = await scraped(metrics);
    expect(s.value('firebridge_exchanges_total', { outcome: 'success', reason: 'none' })).toBe(2);
    expect(s.value('firebridge_store_errors_total')).toBe(4);
  });

  it('routes beyond MAX_ROUTES fold into "other"; unknown routes are "unmatched"', async () => {
    const metrics = createMetrics(sources());
    for (let i = 0; i < MAX_ROUTES + 10; i += 1) metrics.observeRequest(`/r${i}`, 200, 0.001);
    metrics.observeRequest(undefined, 404, 0.001);
    metrics.observeRequest('/r0', 503, 0.2);
    const s = await scraped(metrics);
    const routes = new Set(s.samples.filter((x) => x.name === 'firebridge_request_duration_seconds_count').map((x) => x.labels.route));
    expect(routes.size).toBe(MAX_ROUTES + 2);
    expect(s.value('firebridge_request_duration_seconds_count', { route: OTHER_ROUTE, status_class: '2xx' })).toBe(10);
    expect(s.value('firebridge_request_duration_seconds_count', { route: 'unmatched', status_class: '4xx' })).toBe(1);
    expect(s.value('firebridge_request_duration_seconds_count', { route: '/r0', status_class: '5xx' })).toBe(1);
  });

  it('a registry per app: two apps never see each other\'s counts', async () => {
    const one = createMetrics(sources());
    const two = createMetrics(sources());
    one.observeRequest('/v1/me', 200, 0.001);
    expect((await scraped(one)).value('firebridge_request_duration_seconds_count', { route: '/v1/me', status_class: '2xx' })).toBe(1);
    expect((await scraped(two)).has('firebridge_request_duration_seconds_count', { route: '/v1/me', status_class: '2xx' })).toBe(false);
  });
});
