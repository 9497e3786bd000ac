/** Counters and latency percentiles of the load test. */

export type Expectation = 'valid' | 'invalid';

export interface Outcome {
  /** e.g. "valid exchange", "invalid expired". */
  kind: string;
  expect: Expectation;
  /** HTTP status, or 0 when the request itself failed (connection error, client timeout). */
  status: number;
  /** `error` of the JSON error body, or a client-side cause. */
  error?: string;
  /** `error_description` of the JSON error body (or the client error). */
  description?: string;
  /** The request was answered as it should have been (a valid one served, an invalid one refused with a 4xx). */
  ok: boolean;
  ms: number;
}

class Latencies {
  readonly values: number[] = [];
  add(ms: number): void {
    this.values.push(ms);
  }
  get count(): number {
    return this.values.length;
  }
  summary(): { p50: number; p99: number; max: number } {
    if (this.values.length === 0) return { p50: 0, p99: 0, max: 0 };
    const sorted = [...this.values].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
    return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] as number };
  }
}

interface KindStats {
  expect: Expectation;
  ok: number;
  bad: number;
  latency: Latencies;
  statuses: Map<number, number>;
}

export class Stats {
  readonly kinds = new Map<string, KindStats>();
  /** "valid exchange 503 temporarily_unavailable: ..." → count (only what went wrong, plus refusals by cause). */
  readonly causes = new Map<string, number>();
  readonly failures: Outcome[] = [];
  total = 0;

  record(outcome: Outcome): void {
    this.total += 1;
    let kind = this.kinds.get(outcome.kind);
    if (!kind) {
      kind = { expect: outcome.expect, ok: 0, bad: 0, latency: new Latencies(), statuses: new Map() };
      this.kinds.set(outcome.kind, kind);
    }
    kind.latency.add(outcome.ms);
    kind.statuses.set(outcome.status, (kind.statuses.get(outcome.status) ?? 0) + 1);
    if (outcome.ok) kind.ok += 1;
    else {
      kind.bad += 1;
      if (this.failures.length < 20) this.failures.push(outcome);
    }
    if (outcome.status !== 200 || !outcome.ok) {
      const cause = `${outcome.status} ${outcome.error ?? '-'}: ${outcome.description ?? '-'}`;
      this.causes.set(cause, (this.causes.get(cause) ?? 0) + 1);
    }
  }

  totals(): { validOk: number; validFailed: number; invalidRefused: number; invalidAccepted: number; invalidServerError: number } {
    let validOk = 0;
    let validFailed = 0;
    let invalidRefused = 0;
    let invalidAccepted = 0;
    let invalidServerError = 0;
    for (const k of this.kinds.values()) {
      if (k.expect === 'valid') {
        validOk += k.ok;
        validFailed += k.bad;
      } else {
        invalidRefused += k.ok;
        for (const [status, n] of k.statuses) {
          if (status >= 200 && status < 300) invalidAccepted += n;
          else if (status >= 500 || status === 0) invalidServerError += n;
        }
      }
    }
    return { validOk, validFailed, invalidRefused, invalidAccepted, invalidServerError };
  }

  /** Per-class lines: count, ok/bad, statuses, p50/p99/max latency. */
  table(): string[] {
    const rows = [...this.kinds.entries()].sort(([a], [b]) => a.localeCompare(b));
    const lines = [
      `${'class'.padEnd(34)}${'count'.padStart(8)}${'as expected'.padStart(13)}${'wrong'.padStart(7)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}  statuses`,
    ];
    for (const [name, k] of rows) {
      const { p50, p99, max } = k.latency.summary();
      const statuses = [...k.statuses.entries()]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}×${n}`)
        .join(' ');
      lines.push(
        `${name.padEnd(34)}${String(k.latency.count).padStart(8)}${String(k.ok).padStart(13)}${String(k.bad).padStart(7)}${p50.toFixed(1).padStart(9)}${p99.toFixed(1).padStart(9)}${max.toFixed(1).padStart(9)}  ${statuses}`,
      );
    }
    return lines;
  }

  /** Latency of every request of one expectation. */
  overall(expect: Expectation): { p50: number; p99: number; max: number } {
    const all = new Latencies();
    for (const k of this.kinds.values()) {
      if (k.expect !== expect) continue;
      for (const v of k.latency.values) all.add(v);
    }
    return all.summary();
  }
}
