import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  type ListServicesOrder,
  MAX_LISTED_SERVICES,
  type OrderResult,
  SERVICE_UNIT_PATTERN,
  type ServiceActionOrder,
  type ServiceInfo,
  WINDOWS_SERVICE_PATTERN,
} from '../../protocol/index.ts';
import { parseWmicTable, runTool } from './windows-commands.ts';

const run = promisify(execFile);

/** How long systemctl may take to list, or to start/stop/restart a unit, in milliseconds. */
const LIST_TIMEOUT_MS = 15_000;
const ACTION_TIMEOUT_MS = 90_000;
/** The most output read from systemctl, in bytes. */
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;
/** systemctl's exit status for a unit it does not know (LSB "program is not installed"). */
const UNIT_NOT_FOUND_STATUS = 5;

const NOT_HERE: Extract<OrderResult, { ok: false }> = {
  ok: false,
  code: 'NOT_SUPPORTED',
  message: `The services tool is not available on ${process.platform} yet.`,
};

/** The words of a `systemctl list-units --plain --no-legend` line (description last: it may hold spaces). */
function parseUnit(line: string): ServiceInfo | undefined {
  const match = /^\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line);
  if (!match || !match[1]!.endsWith('.service')) return undefined;
  return {
    unit: match[1]!.slice(0, 256),
    load: match[2]!.slice(0, 32),
    active: match[3]!.slice(0, 32),
    sub: match[4]!.slice(0, 32),
    description: match[5]!.trim().slice(0, 200),
  };
}

/**
 * A Windows service in systemd's columns: `load` is its start mode where known (auto, manual,
 * disabled), `active` active or inactive, `sub` its state (running, stopped, start_pending…),
 * `description` its display name.
 */
function windowsService(name: string, displayName: string, state: string, startMode = ''): ServiceInfo {
  const sub = state.trim().toLowerCase().replace(/\s+/g, '_');
  return {
    unit: name.slice(0, 256),
    load: startMode.toLowerCase().slice(0, 32),
    active: sub === 'running' ? 'active' : 'inactive',
    sub: sub.slice(0, 32),
    description: displayName.slice(0, 200),
  };
}

/** The services of `sc queryex type= service state= all`: blocks of SERVICE_NAME, DISPLAY_NAME, STATE. */
export function parseScQuery(text: string): ServiceInfo[] {
  return text.split(/\n(?=SERVICE_NAME:)/).flatMap((block) => {
    const name = /^SERVICE_NAME:\s*(.+)$/m.exec(block)?.[1]?.trim();
    const state = /^\s*STATE\s*:\s*\d+\s+(\S+)/m.exec(block)?.[1];
    if (!name || !state) return [];
    return [windowsService(name, /^DISPLAY_NAME:\s*(.*)$/m.exec(block)?.[1]?.trim() ?? '', state)];
  });
}

/** The services of `wmic path Win32_Service get DisplayName,Name,StartMode,State`. */
export function parseWmicServices(text: string): ServiceInfo[] {
  return parseWmicTable(text).flatMap((row) =>
    row['Name'] && row['State']
      ? [windowsService(row['Name'], row['DisplayName'] ?? '', row['State'], row['StartMode'])]
      : [],
  );
}

/** Windows: `sc queryex`; where it cannot enumerate (Wine's `sc` cannot), `wmic`'s Win32_Service. */
async function windowsServices(): Promise<ServiceInfo[]> {
  const sc = await runTool('sc', ['queryex', 'type=', 'service', 'state=', 'all'], LIST_TIMEOUT_MS);
  const services = sc.status === 0 ? parseScQuery(sc.stdout) : [];
  if (services.length > 0) return services;
  const wmic = await runTool(
    'wmic',
    ['path', 'Win32_Service', 'get', 'DisplayName,Name,StartMode,State'],
    LIST_TIMEOUT_MS,
  );
  if (wmic.status !== 0) throw new Error(`sc and wmic failed: ${(wmic.stderr || wmic.stdout).trim()}`);
  return parseWmicServices(wmic.stdout);
}

async function linuxServices(): Promise<ServiceInfo[]> {
  const { stdout } = await run(
    'systemctl',
    ['list-units', '--type=service', '--all', '--no-pager', '--plain', '--no-legend'],
    { maxBuffer: MAX_OUTPUT_BYTES, timeout: LIST_TIMEOUT_MS },
  );
  return stdout.split('\n').flatMap((line) => parseUnit(line) ?? []);
}

/** The device's services, as systemd (or Windows' service manager) lists them, at most {@link MAX_LISTED_SERVICES}. */
export async function listServices(_order: ListServicesOrder): Promise<OrderResult> {
  if (process.platform !== 'linux' && process.platform !== 'win32') return NOT_HERE;
  try {
    const services = process.platform === 'win32' ? await windowsServices() : await linuxServices();
    return { ok: true, detail: { services: services.slice(0, MAX_LISTED_SERVICES), total: services.length } };
  } catch (error) {
    return {
      ok: false,
      code: 'INTERNAL',
      message: `Listing the services failed: ${(error as Error).message}`.slice(0, 500),
    };
  }
}

/** A Windows service's state word (RUNNING, STOPPED…) as `sc query NAME` says it; undefined: no such service. */
async function windowsServiceState(name: string): Promise<string | undefined> {
  const query = await runTool('sc', ['query', name], LIST_TIMEOUT_MS);
  if (query.status !== 0) return undefined;
  return /^\s*STATE\s*:\s*\d+\s+(\S+)/m.exec(query.stdout)?.[1] ?? 'UNKNOWN';
}

/** What `sc` does for each action, and the state each step waits for. */
const SC_STEPS: Record<ServiceActionOrder['action'], { verb: 'start' | 'stop'; until: string }[]> = {
  start: [{ verb: 'start', until: 'RUNNING' }],
  stop: [{ verb: 'stop', until: 'STOPPED' }],
  restart: [
    { verb: 'stop', until: 'STOPPED' },
    { verb: 'start', until: 'RUNNING' },
  ],
};

/**
 * Windows: `sc start|stop NAME` (a restart is both), each step waited for until the service is
 * running or stopped; a service that is there already is left as it is. The name is checked
 * against {@link WINDOWS_SERVICE_PATTERN} again here.
 */
async function windowsServiceAction(order: ServiceActionOrder): Promise<OrderResult> {
  const { unit, action } = order;
  if (!WINDOWS_SERVICE_PATTERN.test(unit))
    return { ok: false, code: 'VALIDATION_FAILED', message: 'Not a Windows service name.' };
  try {
    if ((await windowsServiceState(unit)) === undefined)
      return { ok: false, code: 'NOT_FOUND', message: `No service ${unit}.` };
    for (const { verb, until } of SC_STEPS[action]) {
      if ((await windowsServiceState(unit)) === until) continue;
      const step = await runTool('sc', [verb, unit], ACTION_TIMEOUT_MS);
      if (step.status !== 0) {
        const why = (step.stdout || step.stderr).trim();
        return { ok: false, code: 'CONFLICT', message: `sc ${verb} ${unit} failed: ${why}`.slice(0, 500) };
      }
      let state = await windowsServiceState(unit);
      for (const deadline = Date.now() + ACTION_TIMEOUT_MS; state !== until && Date.now() < deadline; ) {
        await sleep(500);
        state = await windowsServiceState(unit);
      }
      if (state !== until)
        return { ok: false, code: 'CONFLICT', message: `${unit} is ${state ?? 'gone'}, not ${until}.` };
    }
    return { ok: true, detail: { unit, action } };
  } catch (error) {
    return { ok: false, code: 'INTERNAL', message: `sc failed: ${(error as Error).message}`.slice(0, 500) };
  }
}

/**
 * Starts, stops or restarts the order's unit with `systemctl ACTION -- UNIT`: the name is checked
 * against {@link SERVICE_UNIT_PATTERN} again here, and `--` ends the options whatever it says.
 */
export async function serviceAction(order: ServiceActionOrder): Promise<OrderResult> {
  if (process.platform === 'win32') return windowsServiceAction(order);
  if (process.platform !== 'linux') return NOT_HERE;
  const { unit, action } = order;
  if (!SERVICE_UNIT_PATTERN.test(unit))
    return { ok: false, code: 'VALIDATION_FAILED', message: 'Not a service unit name.' };
  try {
    await run('systemctl', [action, '--no-ask-password', '--', unit], {
      maxBuffer: MAX_OUTPUT_BYTES,
      timeout: ACTION_TIMEOUT_MS,
    });
    return { ok: true, detail: { unit, action } };
  } catch (error) {
    const failed = error as { code?: unknown; stderr?: string; message: string };
    if (failed.code === UNIT_NOT_FOUND_STATUS)
      return { ok: false, code: 'NOT_FOUND', message: `No service ${unit}.` };
    const why = (failed.stderr || failed.message).trim();
    return {
      ok: false,
      code: 'CONFLICT',
      message: `systemctl ${action} ${unit} failed: ${why}`.slice(0, 500),
    };
  }
}
