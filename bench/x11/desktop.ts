import { runX, startXvfb } from '../../tests/support/xvfb.ts';
import { track } from '../support/processes.ts';
import { type Probe, startProbe } from './probe.ts';

/** A virtual desktop for one measurement: Xvfb, a plain background and the test client. */
export interface Desktop {
  display: string;
  width: number;
  height: number;
  probe: Probe;
  stop(): Promise<void>;
}

/** The desktop's background colour, a typical plain wallpaper. */
const BACKGROUND = '#2060c0';

export async function startDesktop(width: number, height: number): Promise<Desktop> {
  const xvfb = await startXvfb({ width, height });
  track(xvfb.pid);
  try {
    await runX('xsetroot', ['-solid', BACKGROUND], xvfb.display);
    const probe = await startProbe(xvfb.display);
    return {
      display: xvfb.display,
      width,
      height,
      probe,
      async stop() {
        await probe.stop();
        await xvfb.stop();
      },
    };
  } catch (error) {
    await xvfb.stop();
    throw error;
  }
}
