import { ConfigError, readEnvironment, loadConfig } from './config';
import { KeyFileError } from './errors';
import { createLogger } from './logger';
import { startServer } from './compose/server';

/** Entry point: validate settings once, start, and shut down gracefully on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(readEnvironment());
  } catch (err) {
    if (err instanceof ConfigError) {
      // One line per bad setting: every problem is reported at once.
      for (const problem of err.problems) process.stderr.write(`firebridge: invalid configuration: ${problem.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger(config.logLevel, undefined, config.logFormat);
  let running;
  try {
    running = await startServer(config, { logger });
  } catch (err) {
    const message = err instanceof KeyFileError ? `KEYS_DIR: ${err.message}` : (err as Error).message;
    logger.fatal({ err: message }, 'cannot start');
    process.stderr.write(`firebridge: cannot start: ${message}\n`);
    process.exit(1);
  }
  const stop = (signal: string) => {
    logger.info({ signal }, 'signal received');
    running.shutdown().then(() => {
      logger.info('stopped');
      process.exit(0);
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // SIGHUP: re-read KEYS_DIR now (it is also watched and polled); a bad change is rejected and logged.
  process.on('SIGHUP', () => {
    logger.info({ signal: 'SIGHUP' }, 'signal received: reloading the keyring');
    void running.deps.signing?.keyring?.reload('SIGHUP', true);
  });
}

void main();
