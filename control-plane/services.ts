import { hostname } from 'node:os';
import type { Client } from '@libsql/client';
import { type AuditLog, createAuditLog } from './audit/audit-log.ts';
import { createPseudonymizer, type Pseudonymizer } from './audit/pseudonym.ts';
import { ApiTokenStore } from './auth/api-token-store.ts';
import { operatorMayConnect } from './auth/authenticate.ts';
import { ensureFirstAdmin } from './auth/first-admin.ts';
import { LoginStore } from './auth/login-store.ts';
import { hashPassword } from './auth/passwords.ts';
import type { Config } from './config.ts';
import { type Database, openDatabase } from './db/client.ts';
import { DeviceHub, DeviceIdentity, DeviceStore, UnattendedPasswords } from './devices/index.ts';
import { ensureDefaultGroups } from './groups/default-groups.ts';
import { GroupStore } from './groups/group-store.ts';
import { loadMasterKey } from './keys/master-key.ts';
import { loadServerSecret } from './keys/server-secret.ts';
import { type KeyRing, loadKeyRing } from './keys/signing-keys.ts';
import type { Logger } from './logger.ts';
import { ServiceMetrics } from './metrics/index.ts';
import { OperatorStore } from './operators/operator-store.ts';
import { OrganisationStore } from './organisations/organisation-store.ts';
import { Recordings } from './recordings/recordings.ts';
import { Relay } from './relay/relay.ts';
import { startHousekeeping } from './sessions/housekeeping.ts';
import { SessionStore } from './sessions/session-store.ts';
import { GuessBudget } from './throttle/guess-budget.ts';
import {
  ACCOUNT_LOGIN_LIMITS,
  ANONYMOUS_CODE_BUDGET,
  INVITATION_PASSWORD_LIMITS,
  TOTP_LIMITS,
} from './throttle/guess-limits.ts';
import { GuessThrottle } from './throttle/guess-throttle.ts';
import { createTokenService, type TokenService } from './tokens/tokens.ts';

/** Operator accounts, their console logins and their API tokens. */
export interface Accounts {
  operators: OperatorStore;
  logins: LoginStore;
  apiTokens: ApiTokenStore;
}

/** Everything the routes and the relay share; built once at start-up. */
export interface Services {
  config: Config;
  logger: Logger;
  db: Database;
  keys: KeyRing;
  tokens: TokenService;
  audit: AuditLog;
  store: SessionStore;
  groups: GroupStore;
  organisations: OrganisationStore;
  /** Operator accounts, their console logins and their API tokens. */
  accounts: Accounts;
  relay: Relay;
  /** Enrolled devices: their rows, their identity tokens, and the hub holding their sockets. */
  devices: { store: DeviceStore; identity: DeviceIdentity; hub: DeviceHub; unattended: UnattendedPasswords };
  /** Session recordings: files under `<dataDir>/recordings/` and their rows. */
  recordings: Recordings;
  /** This node's name, recorded on the sessions it relays. */
  node: string;
  /** What `/metrics` shows beyond the relay's own figures (README, "Metrics"). */
  metrics: ServiceMetrics;
  /** Wrong passwords per address, per (account, address) and per known device (README, "Guess limits"). */
  loginThrottle: GuessThrottle;
  /** Wrong passwords per account, for clients that are neither a known device nor a known address. */
  accountLoginThrottle: GuessThrottle;
  /** Wrong authenticator codes per account; only a right authenticator code clears them. */
  totpThrottle: GuessThrottle;
  /** Wrong connection codes per anonymous address (its /64 for IPv6). */
  codeThrottle: GuessThrottle;
  /** Wrong connection codes per operator, whatever their address. */
  operatorCodeThrottle: GuessThrottle;
  /** Wrong connection codes from every anonymous agent together. */
  anonymousCodeBudget: GuessBudget;
  registerThrottle: GuessThrottle;
  /** Wrong passwords per invitation, whoever guesses (README, "Invitations"). */
  invitationThrottle: GuessThrottle;
  /** Wrong dynamic passwords of unattended access, per device (README, "Unattended access"). */
  unattendedPasswordThrottle: GuessThrottle;
  /** Hash checked for unknown usernames so a login takes as long whether or not the user exists. */
  dummyPasswordHash: string;
  /** Keyed hashes for text that must not be logged, e.g. a username that matches no account. */
  pseudonym: Pseudonymizer;
  /** Whether an operator (and, for a console login, that login) may still open relay sockets. */
  operatorMayConnect(operatorId: string, loginSessionId: string | undefined): Promise<boolean>;
  /** Whether a browser origin may use the console's cookie and the relay. */
  isAllowedOrigin(origin: string): boolean;
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function originMatcher(config: Config): (origin: string) => boolean {
  const publicUrl = new URL(config.publicUrl);
  const allowed = new Set([publicUrl.origin, ...config.allowedOrigins.map((o) => new URL(o).origin)]);
  // With a loopback public URL (the embedded default), the same server reached as localhost,
  // 127.0.0.1 or [::1] is the same origin to a person at that machine.
  const loopback = LOOPBACK_HOSTS.has(publicUrl.hostname);
  return (origin) => {
    if (allowed.has(origin)) return true;
    if (!loopback || !URL.canParse(origin)) return false;
    const url = new URL(origin);
    return (
      LOOPBACK_HOSTS.has(url.hostname) && url.port === publicUrl.port && url.protocol === publicUrl.protocol
    );
  };
}

/** Opens the database, loads keys and secrets, creates the first admin when needed. */
export async function createServices(
  config: Config,
  logger: Logger,
  options: { announce?: (text: string) => void } = {},
): Promise<Services> {
  const { db, client } = await openDatabase(config.databaseUrl, config.databaseAuthToken);
  const master = loadMasterKey(config);
  const keys = await loadKeyRing(db, master);
  const tokens = createTokenService(keys, config.publicUrl);
  const audit = await createAuditLog(db, logger);
  const store = new SessionStore(db, await loadServerSecret(db, 'connection-code-hmac', master));
  const groups = new GroupStore(db);
  const accounts: Accounts = {
    operators: new OperatorStore(db),
    logins: new LoginStore(db),
    apiTokens: new ApiTokenStore(db),
  };
  const node = `${hostname()}:${config.port}`;
  const mayConnect = (operatorId: string, loginSessionId: string | undefined) =>
    operatorMayConnect(accounts, operatorId, loginSessionId);
  const recordings = new Recordings(db, config.dataDir, logger);
  const relay = new Relay({
    tokens,
    store,
    audit,
    logger,
    node,
    operatorMayConnect: mayConnect,
    agentGraceMs: config.agentGraceMs,
    pingMs: config.pingMs,
    messageBudget: config.relayMessageBudget,
    recordings,
  });
  const deviceStore = new DeviceStore(db);
  const deviceIdentity = new DeviceIdentity(deviceStore);
  // Sockets a previous run of this node held are gone; their devices are offline until they return.
  await deviceStore.clearNode(node);
  const deviceHub = new DeviceHub({
    store: deviceStore,
    identity: deviceIdentity,
    logger,
    node,
    heartbeatMs: config.pingMs,
  });
  // Before the recordings are tidied: a recorded session left open ends here, and its file with it.
  const leftOpen = await relay.resumeLeftOpen(await store.leftOpen(node));
  if (leftOpen.waiting + leftOpen.ended > 0)
    logger.info({ ...leftOpen, graceMs: config.agentGraceMs }, 'sessions left open by a previous run');
  const unfinished = await recordings.finishOrphans();
  if (unfinished > 0) logger.info({ unfinished }, 'closed recordings left open by a previous run');
  const stopHousekeeping = startHousekeeping(store, audit, logger, {
    recordings,
    retentionMs: config.recordingRetentionMs,
  });
  await ensureFirstAdmin(db, config, audit, options.announce ?? ((text) => process.stdout.write(text)));
  await ensureDefaultGroups(db, groups, config);

  return {
    config,
    logger,
    db,
    keys,
    tokens,
    audit,
    store,
    groups,
    organisations: new OrganisationStore(db),
    accounts,
    relay,
    devices: {
      store: deviceStore,
      identity: deviceIdentity,
      hub: deviceHub,
      unattended: new UnattendedPasswords(),
    },
    recordings,
    node,
    metrics: new ServiceMetrics(),
    // The figures are explained, with their arithmetic, in the README's "Guess limits".
    loginThrottle: new GuessThrottle({ freeFailures: 5 }),
    accountLoginThrottle: new GuessThrottle(ACCOUNT_LOGIN_LIMITS),
    totpThrottle: new GuessThrottle(TOTP_LIMITS),
    codeThrottle: new GuessThrottle({ freeFailures: 5 }),
    // Ten, so a script may have ten redemptions in flight: each counts until it turns out right.
    operatorCodeThrottle: new GuessThrottle({ freeFailures: 10 }),
    anonymousCodeBudget: new GuessBudget(ANONYMOUS_CODE_BUDGET),
    // 30 registrations per address are free; a script looping on registration is slowed down.
    registerThrottle: new GuessThrottle({ freeFailures: 30, baseDelayMs: 1_000, windowMs: 60_000 }),
    invitationThrottle: new GuessThrottle(INVITATION_PASSWORD_LIMITS),
    unattendedPasswordThrottle: new GuessThrottle({ freeFailures: 3 }),
    dummyPasswordHash: await hashPassword('not-a-real-password'),
    pseudonym: createPseudonymizer(master.derive('audit/pseudonym')),
    operatorMayConnect: mayConnect,
    isAllowedOrigin: originMatcher(config),
    async close() {
      stopHousekeeping();
      deviceHub.shutdown();
      await relay.shutdown();
      (client as Client).close();
    },
  };
}
