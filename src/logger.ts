import pino, { type DestinationStream, type LevelWithSilent, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

/** `json`: one JSON object a line (the default, for log pipelines); `pretty`: coloured lines for a developer. */
export type LogFormatName = 'json' | 'pretty';

/**
 * Structured logs. Nothing logs a token, key or code; as a second line of defence the usual places a secret could
 * sit are redacted. Redaction happens before formatting, so `pretty` shows no more than `json`.
 */
export function createLogger(level: LevelWithSilent, destination?: DestinationStream, format: LogFormatName = 'json'): Logger {
  const options = {
    level,
    base: { service: 'firebridge' },
    redact: {
      paths: [
        'idToken',
        'customToken',
        'token',
        'privateKey',
        'private_key',
        'authorization',
        '*.authorization',
        'serverAuthCode',
        'refreshToken',
        'refresh_token',
        'accessToken',
        'access_token',
      ],
      censor: '[redacted]',
    },
  };
  if (format === 'pretty') {
    // Synchronous, in this thread (no transport worker): a crash still prints its last lines.
    const pretty = pinoPretty({
      sync: true,
      colorize: destination === undefined && process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service',
      ...(destination !== undefined ? { destination } : {}),
    });
    return pino(options, pretty);
  }
  return pino(options, destination);
}
