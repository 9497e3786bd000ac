import pino, { type DestinationStream, type LevelWithSilent, type Logger } from 'pino';

/**
 * Structured JSON logs. Nothing logs a token, key or code; as a second line of defence the
 * usual places a secret could sit are redacted.
 */
export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  return pino(
    {
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
    },
    destination,
  );
}
