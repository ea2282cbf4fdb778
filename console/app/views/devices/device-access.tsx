import { useState } from 'preact/hooks';
import { isApiCallError } from '../../api/client.ts';
import { connectUnattended, offerHelp, startUnattended } from '../../api/devices.ts';
import { joinSession } from '../../api/sessions.ts';
import type { Device, SessionGrant } from '../../api/types.ts';
import { useAction } from '../hooks.ts';
import { DeviceActionForm } from './device-action-form.tsx';

/** How long the console waits for a device's session host to reach the relay, in milliseconds. */
const HOST_WAIT_MS = 20_000;
/** Between two tries to join while the host is on its way, in milliseconds. */
const HOST_POLL_MS = 500;

/** Joins a session a device was just ordered to open, once its session host has reached the relay. */
async function joinWhenHostArrives(sessionId: string): Promise<SessionGrant> {
  const deadline = Date.now() + HOST_WAIT_MS;
  for (;;) {
    try {
      return await joinSession(sessionId);
    } catch (error) {
      if (!isApiCallError(error) || error.kind !== 'AGENT_OFFLINE' || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, HOST_POLL_MS));
    }
  }
}

export interface DeviceAccessProps {
  device: Device;
  onJoined(grant: SessionGrant): void;
}

/**
 * A device's screen-session actions (README, "Unattended access" and "Offering help"): start
 * unattended access and show its dynamic password once; connect with a password; offer help to the
 * user at it. The server checks role and group policy; its refusals are shown as they come.
 */
export function DeviceAccess({ device, onJoined }: DeviceAccessProps) {
  const [password, setPassword] = useState<string | null>(null);
  const [typed, setTyped] = useState('');
  const [reason, setReason] = useState('');
  const { busy, error, run: act } = useAction();

  const start = () =>
    act(
      async () => setPassword((await startUnattended(device.id)).password),
      'Unattended access did not start.',
    );
  const connect = () => {
    void act(async () => {
      const { sessionId } = await connectUnattended(device.id, typed);
      setTyped('');
      setPassword(null);
      onJoined(await joinWhenHostArrives(sessionId));
    }, 'The session could not be opened.');
  };
  const offer = () =>
    act(async () => {
      const { sessionId } = await offerHelp(device.id, reason.trim());
      onJoined(await joinWhenHostArrives(sessionId));
    }, 'Help could not be offered.');

  return (
    <div class="device-access" data-testid="device-access">
      <button
        type="button"
        class="btn btn--secondary btn--small"
        data-testid="device-unattended-start"
        disabled={busy}
        onClick={() => void start()}
      >
        Start unattended access
      </button>
      {password && (
        <p class="cell-sub">
          Password (shown once): <code data-testid="device-unattended-password">{password}</code>
        </p>
      )}
      <DeviceActionForm
        class="device-access__connect"
        name="unattendedPassword"
        type="password"
        placeholder="Unattended password"
        label="Unattended password"
        value={typed}
        onInput={setTyped}
        action="Connect"
        disabled={busy || typed.length === 0}
        onSubmit={connect}
        testIds={{ input: 'device-unattended-password-input', button: 'device-unattended-connect' }}
      />
      <DeviceActionForm
        class="device-access__offer"
        name="offerReason"
        maxLength={200}
        placeholder="What for (shown to the user)"
        label="What the help is for"
        value={reason}
        onInput={setReason}
        action="Offer help"
        disabled={busy}
        onSubmit={() => void offer()}
        testIds={{ input: 'device-offer-reason', button: 'device-offer-help' }}
      />
      {error && (
        <p class="cell-sub device-access__error" role="alert" data-testid="device-access-error">
          {error}
        </p>
      )}
    </div>
  );
}
