import { DependencyUnavailableError, InvalidTokenError, PushFailedError } from '../src/errors';
import { OutcomeCounts } from '../src/outcomes';

describe('OutcomeCounts', () => {
  it('counts successes, refusals (4xx) and errors (5xx, or not a FirebridgeError) by error code', () => {
    const counts = new OutcomeCounts();
    expect(counts.entries()).toEqual([{ outcome: 'success', reason: 'none', count: 0 }]);
    counts.succeeded();
    counts.succeeded();
    counts.failed(new InvalidTokenError('expired', 'ERR_TOKEN_EXPIRED'));
    counts.failed(new InvalidTokenError('expired again', 'ERR_TOKEN_EXPIRED'));
    counts.failed(new DependencyUnavailableError('redis down'));
    counts.failed(new TypeError('a bug'));
    counts.failed(new PushFailedError('gone', 'unregistered'), 'unregistered');
    expect(counts.entries()).toEqual([
      { outcome: 'success', reason: 'none', count: 2 },
      { outcome: 'refused', reason: 'ERR_TOKEN_EXPIRED', count: 2 },
      { outcome: 'error', reason: 'ERR_DEPENDENCY_UNAVAILABLE', count: 1 },
      { outcome: 'error', reason: 'internal', count: 1 },
      { outcome: 'error', reason: 'unregistered', count: 1 },
    ]);
    expect(counts.count('refused', 'ERR_TOKEN_EXPIRED')).toBe(2);
    expect(counts.count('success')).toBe(2);
  });

  it('never takes a label from a message: a thousand distinct messages are one entry', () => {
    const counts = new OutcomeCounts();
    for (let i = 0; i < 1000; i += 1) counts.failed(new InvalidTokenError(`token ${i} for user-${i}@example.com`));
    counts.failed(Object.assign(new Error('odd'), { code: 'ECONNRESET', status: 400 }));
    expect(counts.entries()).toHaveLength(3);
    expect(JSON.stringify(counts.entries())).not.toMatch(/example\.com|ECONNRESET/);
  });
});
