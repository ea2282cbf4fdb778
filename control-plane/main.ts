import { createApp } from './app.ts';
import { ConfigError, describeConfig, describeUrl, loadConfig } from './config.ts';
import { serveControlPlane } from './http/node-server.ts';
import { loadTlsIdentity, servedKeyPin } from './http/tls.ts';
import { createLogger } from './logger.ts';
import { createServices } from './services.ts';

/** Starts the control plane on its embedded defaults: `npm start`. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  logger.info({ config: describeConfig(config) }, 'starting');
  const refuse = (error: unknown): never => {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  };
  const tls = await loadTlsIdentity(config).catch(refuse);
  if (tls) {
    logger.info(
      {
        tls: config.tls,
        certificate: config.tlsCertFile,
        generated: tls.generated,
        fingerprint: tls.fingerprint,
      },
      'serving https',
    );
  }
  if (config.tlsPinCertFile) {
    // Read now, so a wrong file stops the start instead of the first download.
    const pin = await servedKeyPin(config).catch(refuse);
    logger.info({ certificate: config.tlsPinCertFile, pin }, "agents pinned to the reverse proxy's key");
  }
  const services = await createServices(config, logger).catch(refuse);
  const { app, injectWebSocket } = createApp(services);
  const server = serveControlPlane(
    app.fetch,
    config,
    logger,
    { port: config.port, hostname: config.host },
    (info) => {
      const url = describeUrl(config.publicUrl);
      logger.info({ port: info.port, host: config.host, url }, 'listening');
      process.stdout.write(`Lifeline control plane: open ${url} in a browser.\n`);
      if (tls) process.stdout.write(`Its certificate's SHA-256 fingerprint: ${tls.fingerprint}\n`);
    },
    tls,
  );
  injectWebSocket(server);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    await services.close();
    server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

await main();
