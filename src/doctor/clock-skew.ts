import { type DoctorCheck, type Verdict, fail, notApplicable, ok, reasonOf, warn } from './check';
import { probe } from './http-probe';

/**
 * This machine's clock (the injected one) against Google's `Date` header, from GOOGLE_CERTS_URL. The
 * header has one-second resolution and the answer takes a round trip: only a difference beyond both is
 * counted. Past CLOCK_SKEW_SECONDS, tokens are refused as not yet valid or expired (and Firebase refuses
 * custom tokens issued "in the future"); past half of it, a warning.
 */
export const clockSkewCheck: DoctorCheck = {
  id: 'clock',
  name: 'clock',
  async run({ config, fetch, clock }): Promise<Verdict> {
    if (config.mode === 'local') return notApplicable('local mode: the emulated Google shares this clock');
    let answer;
    try {
      answer = await probe(fetch, config.googleCertsUrl, config.certsFetchTimeoutMs, clock);
    } catch (err) {
      return fail(`cannot read Google's time: ${reasonOf(err)}`, 'check the network path to GOOGLE_CERTS_URL');
    }
    const header = answer.headers.get('date');
    const googleMs = header === null ? Number.NaN : Date.parse(header);
    if (Number.isNaN(googleMs)) return warn(`${new URL(config.googleCertsUrl).origin} sent no usable Date header; the clock is not checked`);
    const midpoint = (answer.sentAt + answer.answeredAt) / 2;
    // Google's time lies in [googleMs, googleMs + 1 s) when it answered: compare with the middle of that.
    const offsetMs = googleMs + 500 - midpoint;
    const uncertaintyMs = 500 + (answer.answeredAt - answer.sentAt) / 2;
    const skewSeconds = Math.max(0, Math.abs(offsetMs) - uncertaintyMs) / 1000;
    const leeway = config.clockSkewSeconds;
    const direction = offsetMs > 0 ? 'behind' : 'ahead of';
    const found = `this clock is ${skewSeconds.toFixed(1)} s ${direction} Google's (CLOCK_SKEW_SECONDS=${leeway})`;
    const fix = 'synchronize the clock (chrony, systemd-timesyncd or ntpd)';
    if (skewSeconds > leeway) return fail(`${found}: tokens will be refused as expired or not yet valid`, fix);
    if (skewSeconds > leeway / 2 && skewSeconds >= 1) return warn(`${found}: over half the leeway`, fix);
    return ok(skewSeconds === 0 ? `agrees with Google's Date header (CLOCK_SKEW_SECONDS=${leeway})` : found);
  },
};
