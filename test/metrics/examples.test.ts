import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import request from 'supertest';
import { FakeGoogle } from '../../testkit/fake-google';
import { bridgeFor } from '../../testkit/harness';
import { type Scrape, scrape } from '../../testkit/metrics';

const ROOT = path.resolve(__dirname, '../..');

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rulesFile = yaml.safeLoad(readFileSync(path.join(ROOT, 'examples/prometheus/alerts.yml'), 'utf8')) as {
  groups: Array<{ name: string; rules: Rule[] }>;
};
const dashboard = JSON.parse(readFileSync(path.join(ROOT, 'examples/grafana/firebridge.json'), 'utf8')) as {
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
};

/** The metric a sample name belongs to (a histogram's series carry suffixes). */
function family(name: string, scraped: Scrape): string {
  if (scraped.types.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return scraped.types.get(base) === 'histogram' ? base : name;
}

/** Every metric an expression names (ours and the process defaults), with the label names its selectors match on. */
function metricsIn(expr: string): Array<{ name: string; labels: string[] }> {
  const found: Array<{ name: string; labels: string[] }> = [];
  for (const m of expr.matchAll(/\b((?:firebridge|process|nodejs)_[a-z0-9_]+)(\{[^}]*\})?/g)) {
    const labels = [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!=|!~|=)/g)].map((l) => l[1] as string);
    found.push({ name: m[1] as string, labels });
  }
  return found;
}

describe('examples/prometheus/alerts.yml and examples/grafana/firebridge.json', () => {
  let fake: FakeGoogle;
  let scraped: Scrape;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    // A running app after some traffic, so the labelled series have samples.
    const bridge = bridgeFor(fake);
    await request(bridge.app).post('/v1/token/google').send({ idToken: await fake.googleIdToken() }).expect(200);
    await request(bridge.app).post('/v1/token/google').send({ idToken: 'x' }).expect(401);
    await request(bridge.app).get('/v1/me').set('Authorization', `Bearer ${await fake.firebaseIdToken()}`).expect(200);
    await scrape(bridge.app);
    scraped = await scrape(bridge.app);
  });
  afterAll(() => fake.close());

  it('the rules file has the four alerts the README promises, each with a severity and a summary', () => {
    const rules = rulesFile.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['FirebridgeKeySetStale', 'FirebridgeSigningKeyOld', 'FirebridgeExchangeErrorRatio', 'FirebridgeCircuitOpen']),
    );
    for (const rule of rules) {
      expect(typeof rule.expr).toBe('string');
      expect(['critical', 'warning']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toEqual(expect.any(String));
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
    }
    // The signing-key rule alerts at Google's 90 days.
    expect(rules.find((r) => r.alert === 'FirebridgeSigningKeyOld')?.expr).toMatch(/firebridge_signing_key_age_seconds\) > 90 \* 86400/);
  });

  const sources = [
    ...rulesFile.groups.flatMap((g) => g.rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr }))),
    ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
  ];

  it('names metrics at all', () => {
    expect(sources.length).toBeGreaterThan(15);
    for (const { where, expr } of sources) expect([where, metricsIn(expr).length > 0]).toEqual([where, true]);
  });

  it('every metric a rule or panel names exists in a real scrape, with the labels it selects on', () => {
    const missing: string[] = [];
    for (const { where, expr } of sources) {
      for (const { name, labels } of metricsIn(expr)) {
        const metric = family(name, scraped);
        if (!scraped.types.has(metric)) {
          missing.push(`${where}: ${name}`);
          continue;
        }
        const samples = scraped.samples.filter((s) => s.name === name);
        // Labels are checked where the metric has samples (a circuit has none until a Google API was called).
        for (const label of labels) {
          if (label === 'instance' || label === 'job') continue; // added by Prometheus
          if (samples.length > 0 && !samples.some((s) => s.labels[label] !== undefined)) missing.push(`${where}: ${name}{${label}}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
