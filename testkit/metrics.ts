import request from 'supertest';
import type { Express } from 'express';

/** One sample of a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A scrape, parsed: the samples, and the metric names its `# TYPE` lines declare. */
export interface Scrape {
  text: string;
  samples: Sample[];
  types: Map<string, string>;
  /** The value of the sample with exactly these labels (0 when absent: a counter not yet incremented). */
  value(name: string, labels?: Record<string, string>): number;
  /** Whether a sample with exactly these labels exists. */
  has(name: string, labels?: Record<string, string>): boolean;
  /** Every series (name and labels), as strings: to compare label sets between scrapes. */
  series(): string[];
}

function unescape(value: string): string {
  return value.replace(/\\(["\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text format (what prom-client writes); throws on a line it does not understand. */
export function parseExposition(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name as string, type as string);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const m of (match[2] ?? '').matchAll(LABEL)) labels[m[1] as string] = unescape(m[2] as string);
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  const same = (a: Record<string, string>, b: Record<string, string>) =>
    Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);
  const find = (name: string, labels: Record<string, string>) => samples.find((s) => s.name === name && same(s.labels, labels));
  return {
    text,
    samples,
    types,
    value: (name, labels = {}) => find(name, labels)?.value ?? 0,
    has: (name, labels = {}) => find(name, labels) !== undefined,
    series: () => samples.map((s) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`).sort(),
  };
}

/** GET /metrics of an app (200 expected), parsed. */
export async function scrape(app: Express, path = '/metrics'): Promise<Scrape> {
  const res = await request(app).get(path).expect(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(res.text);
}
