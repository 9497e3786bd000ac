import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { systemClock } from '../clock';
import type { Config } from '../config';
import { createRequestListener } from '../http/app';
import { createHttpServer } from '../http/http-server';
import { warnIfLocalModeIsReachable } from '../local/local-exposure';
import { EMULATOR_PATHS, KEY_SET_PATHS, LOCAL_ID_TOKEN_PATH } from '../local/local-routes';
import { PLAYGROUND_PATH } from '../local/playground-routes';
import type { FetchFn } from '../outbound/fetch';
import { type Dependencies, createDependencies } from './dependencies';
import { startMetricsServer } from './metrics';
import { startGoogleVault } from './vault';

export interface RunningServer {
  server: Server;
  url: string;
  deps: Dependencies;
  /** METRICS_PORT set: the metrics listener's base URL (GET <metricsUrl>/metrics). */
  metricsUrl?: string;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), then closes. */
  shutdown(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  fetch?: FetchFn;
  /** How long in-flight requests may take to finish after shutdown starts. */
  shutdownGraceMs?: number;
}

/** Builds the app, warms the key sets (a failure there is logged, not fatal), and listens. */
export async function startServer(config: Config, options: StartOptions): Promise<RunningServer> {
  const { logger } = options;
  const deps = createDependencies(config, { logger, clock: systemClock, fetch: options.fetch ?? globalThis.fetch });
  if (config.mode === 'local') {
    logger.warn(
      {
        mode: 'local',
        projectId: config.projectId,
        clientId: config.googleClientIds[0],
        stateDir: config.localStateDir,
        endpoints: [LOCAL_ID_TOKEN_PATH, ...EMULATOR_PATHS, ...KEY_SET_PATHS],
      },
      'LOCAL MODE: FIREBASE_PROJECT_ID and GOOGLE_CLIENT_IDS are not set, so firebridge emulates Google with ' +
        'throwaway keys. Tokens it mints are valid only here. Never expose this server; set NODE_ENV=production to forbid local mode.',
    );
    warnIfLocalModeIsReachable(config, logger);
  }
  // With the Auth Emulator its tokens are unsigned: securetoken's keys are fetched only if a signed one comes.
  const emulator = config.mode === 'configured' && config.authEmulator !== undefined;
  await Promise.all([deps.googleKeys.warm(), emulator ? undefined : deps.firebaseKeys.warm()]).catch((err: unknown) => {
    logger.warn({ err: (err as Error).message }, 'key sets not fetched at start; will retry on demand');
  });
  // The vault's migrations and data key checks: a wrong key file stops the start.
  if (deps.googleVault && config.mode === 'configured' && config.vault) await startGoogleVault(deps.googleVault, config.vault);
  // Keyring hot reload (or keyless signing's first access token); stopped on shutdown.
  await deps.signing?.start();

  const server = createHttpServer(createRequestListener(config, deps), config.http).listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  }).catch((err: unknown) => {
    deps.signing?.stop();
    void deps.googleVault?.close();
    void deps.audit.close();
    throw err;
  });
  const metricsServer = await startMetricsServer(config, deps.metricsRegistry, logger).catch((err: unknown) => {
    server.close();
    deps.signing?.stop();
    void deps.googleVault?.close();
    throw err;
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  logger.info({ url, mode: config.mode, projectId: config.projectId }, 'listening');
  if (config.mode === 'local') logger.info({ url: `${url}${PLAYGROUND_PATH}` }, 'local mode playground: open it in a browser');
  deps.audit.record({
    event: 'server.start',
    mode: config.mode,
    signing: deps.signing?.mode ?? 'local',
    projectId: config.projectId,
    pid: process.pid,
    url,
  });

  const graceMs = options.shutdownGraceMs ?? 10_000;
  let closing: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      deps.signing?.stop();
      deps.audit.record({ event: 'server.stop', pid: process.pid });
      logger.info({ graceMs }, 'shutting down: no new connections, finishing in-flight requests');
      const timer = setTimeout(() => {
        logger.warn('grace period over; closing remaining connections');
        server.closeAllConnections();
      }, graceMs);
      timer.unref();
      // Keep-alive connections become idle as their last request finishes: close them as they do.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      sweep.unref();
      // Scrapes stop with the server: closed at once (a scrape in flight is cut, the next one fails anyway).
      metricsServer?.server.close();
      metricsServer?.server.closeAllConnections();
      server.close(() => {
        clearTimeout(timer);
        clearInterval(sweep);
        // Local mode's users and refresh tokens, written now so a restart keeps them.
        try {
          deps.localToolkit?.flush();
        } catch (err) {
          logger.error({ err: (err as Error).message }, 'local mode could not write its accounts file');
        }
        // Shared state last: in-flight requests may still have needed it; the audit trail after the last request's events.
        Promise.all([deps.store.close(), deps.revocationBus?.close(), deps.googleVault?.close(), deps.audit.close()]).then(
          () => resolve(),
          () => resolve(),
        );
      });
      server.closeIdleConnections();
    });
    return closing;
  };
  return { server, url, deps, shutdown, ...(metricsServer ? { metricsUrl: metricsServer.url } : {}) };
}
