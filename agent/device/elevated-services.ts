import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  type ListServicesOrder,
  MAX_LISTED_SERVICES,
  type OrderResult,
  SERVICE_UNIT_PATTERN,
  type ServiceActionOrder,
  type ServiceInfo,
} from '../../protocol/index.ts';

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

/** The device's service units, as systemd lists them, at most {@link MAX_LISTED_SERVICES}. */
export async function listServices(_order: ListServicesOrder): Promise<OrderResult> {
  if (process.platform !== 'linux') return NOT_HERE;
  try {
    const { stdout } = await run(
      'systemctl',
      ['list-units', '--type=service', '--all', '--no-pager', '--plain', '--no-legend'],
      { maxBuffer: MAX_OUTPUT_BYTES, timeout: LIST_TIMEOUT_MS },
    );
    const services = stdout.split('\n').flatMap((line) => parseUnit(line) ?? []);
    return { ok: true, detail: { services: services.slice(0, MAX_LISTED_SERVICES), total: services.length } };
  } catch (error) {
    return {
      ok: false,
      code: 'INTERNAL',
      message: `systemctl failed: ${(error as Error).message}`.slice(0, 500),
    };
  }
}

/**
 * Starts, stops or restarts the order's unit with `systemctl ACTION -- UNIT`: the name is checked
 * against {@link SERVICE_UNIT_PATTERN} again here, and `--` ends the options whatever it says.
 */
export async function serviceAction(order: ServiceActionOrder): Promise<OrderResult> {
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
