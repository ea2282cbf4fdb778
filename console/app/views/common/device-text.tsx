import { inertDeviceText } from '../../../../protocol/index.ts';

/** The longest device-reported text shown, in characters. */
const MAX_CHARS = 200;

export interface DeviceTextProps {
  text: string;
  /** Show the "reported by the device" label; off where a label beside it already says so. */
  mark?: boolean;
}

/**
 * Text the device reported about itself (host name, user, OS, agent): shown inert (the server made
 * it so, and it is made so again here), isolated from the text around it (`<bdi>`), in its own
 * style, and labelled as what the device says rather than what Lifeline verified.
 */
export function DeviceText({ text, mark = true }: DeviceTextProps) {
  return (
    <span class="device-text" title="Reported by the device; Lifeline does not verify it">
      <bdi class="device-text__value" data-testid="device-reported">
        {inertDeviceText(text, MAX_CHARS)}
      </bdi>
      {mark && (
        <span class="device-text__mark" data-testid="device-reported-mark">
          reported by the device
        </span>
      )}
    </span>
  );
}
