import { useEffect, useRef, useState } from 'preact/hooks';
import type { Identity, SessionGrant } from '../api/types.ts';
import { SessionController } from '../session/session-controller.ts';
import { isFinalPhase } from '../session/session-state.ts';
import { SessionElevatedTools } from './devices/session-elevated-tools.tsx';
import { GuidanceToolbar } from './guidance-toolbar.tsx';
import { useElementSize, useSessionState } from './hooks.ts';
import { OperatorsBar } from './operators-bar.tsx';
import { QualityPlot } from './quality-plot.tsx';
import { SessionOverlay } from './session-overlay.tsx';
import { SessionStatusBar } from './session-status-bar.tsx';
import { type ScaleMode, SessionToolbar } from './session-toolbar.tsx';
import { type ToolPanel, ToolsDock } from './tools/tools-dock.tsx';

/** How long a notice (for example "The user took back control") stays up, in ms. */
const NOTICE_MS = 6000;

export interface SessionViewProps {
  grant: SessionGrant;
  /** The signed-in operator: whether the session offers elevated tools (a session on a resident device). */
  identity: Identity;
  /** Back to the dashboard. Leaving does not end the session; it can be rejoined. */
  onLeave(): void;
}

/** The largest size with the video's aspect ratio that fits the available area, in CSS pixels. */
function fitted(
  area: { width: number; height: number } | null,
  video: { width: number; height: number } | null,
) {
  if (!area || !video || area.width <= 0 || area.height <= 0) return undefined;
  const scale = Math.min(area.width / video.width, area.height / video.height);
  return { width: `${Math.floor(video.width * scale)}px`, height: `${Math.floor(video.height * scale)}px` };
}

/** One live session: the remote screen with its toolbar, status bar, overlays and notices. */
export function SessionView({ grant, identity, onLeave }: SessionViewProps) {
  // Background access shares no screen: the terminal and files panels are the whole session.
  const screenless = grant.session.access === 'background';
  const [controller] = useState(() => new SessionController(grant));
  const state = useSessionState(controller);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const cursorRef = useRef<HTMLCanvasElement>(null);
  const echoRef = useRef<HTMLCanvasElement>(null);
  const areaRef = useRef<HTMLDivElement>(null);
  const area = useElementSize(areaRef);
  const [scale, setScale] = useState<ScaleMode>('fit');
  const [notice, setNotice] = useState<string | null>(null);
  const [panel, setPanel] = useState<ToolPanel | null>(screenless ? 'terminal' : null);
  const [plotShown, setPlotShown] = useState(false);
  const [mounted, setMounted] = useState<ReadonlySet<ToolPanel>>(
    () => new Set<ToolPanel>(screenless ? ['terminal'] : []),
  );
  const showPanel = (next: ToolPanel | null) => {
    setPanel(next);
    if (next && !mounted.has(next)) setMounted(new Set([...mounted, next]));
  };

  useEffect(() => {
    if (canvasRef.current)
      controller.attach(canvasRef.current, cursorRef.current ?? undefined, echoRef.current ?? undefined);
    controller.connect();
    return () => controller.dispose();
  }, [controller]);

  useEffect(() => {
    if (!state.notice) return;
    setNotice(state.notice.text);
    const timer = setTimeout(() => setNotice(null), NOTICE_MS);
    return () => clearTimeout(timer);
  }, [state.notice]);

  // A shared window that is hidden sends no picture: its last one is not left on show either.
  const showScreen =
    state.video !== null &&
    (state.phase === 'live' || state.phase === 'ended') &&
    !state.monitors?.window?.hidden;
  return (
    <div class="session">
      <SessionToolbar
        controller={controller}
        state={state}
        scale={scale}
        onScale={setScale}
        onLeave={onLeave}
        panel={panel}
        onPanel={showPanel}
        screenless={screenless}
      />
      <OperatorsBar controller={controller} state={state} />
      <SessionElevatedTools grant={grant} identity={identity} />
      <div
        class={`session__body${screenless ? ' session__body--screenless' : ''}`}
        data-access={grant.session.access ?? 'attended'}
      >
        <div class={`stage stage--${scale}${state.inControl ? ' stage--control' : ''}`}>
          <div class="stage__scroll" ref={areaRef}>
            <canvas
              ref={canvasRef}
              class={`screen${showScreen ? '' : ' screen--hidden'}`}
              style={scale === 'fit' ? fitted(area, state.video) : undefined}
              data-testid="screen"
              tabIndex={0}
              aria-label="Remote screen"
            />
            <canvas ref={cursorRef} class="remote-cursor" data-testid="remote-cursor" hidden />
            <canvas ref={echoRef} class="guidance-echo" data-testid="guidance-echo" hidden />
          </div>
          <SessionOverlay controller={controller} state={state} onLeave={onLeave} screenless={screenless} />
          {!screenless && <GuidanceToolbar controller={controller} state={state} />}
          {plotShown && (
            <QualityPlot
              quality={controller.quality}
              onPrefer={(prefer) => controller.setVideoPreference(prefer)}
            />
          )}
          {notice && !isFinalPhase(state.phase) && (
            <div class="toast" role="status" data-testid="notice">
              {notice}
            </div>
          )}
        </div>
        <ToolsDock
          controller={controller}
          state={state}
          panel={panel}
          mounted={mounted}
          onClose={() => showPanel(null)}
        />
      </div>
      <SessionStatusBar
        controller={controller}
        state={state}
        plotShown={plotShown}
        onTogglePlot={() => setPlotShown(!plotShown)}
      />
    </div>
  );
}
