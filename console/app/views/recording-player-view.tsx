import { useEffect, useRef, useState } from 'preact/hooks';
import { decodeRecording, type RecordingRecord, recordJson } from '../../../protocol/recording.ts';
import { RecordingPlayer, type TrackItem, trackItemOf } from '../media/recording-player.ts';
import { RemoteCursor } from '../media/remote-cursor.ts';

export interface RecordingPlayerViewProps {
  sessionId: string;
  onClose(): void;
}

/** Minutes and seconds of a position in a recording. */
function position(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

type LoadState = { state: 'loading' } | { state: 'failed'; message: string } | { state: 'ready' };

/** What a recording can be exported as: its video (MP4), and each shell opened in it (asciicast). */
interface Exports {
  video: boolean;
  shells: number[];
}

function exportsOf(records: readonly RecordingRecord[]): Exports {
  const shells = new Set<number>();
  for (const record of records) {
    if (record.kind !== 'event') continue;
    const value = recordJson(record) as { action?: unknown; details?: { channel?: unknown } } | undefined;
    if (value?.action === 'shell.open' && typeof value.details?.channel === 'number')
      shells.add(value.details.channel);
  }
  return { video: records.some((record) => record.kind === 'video'), shells: [...shells] };
}

/**
 * Plays a session's recording: the screen on a canvas (play, pause, a time slider) and the chat and
 * events beside it with their times. Fetching the file is audited by the server as a viewing.
 */
export function RecordingPlayerView({ sessionId, onClose }: RecordingPlayerViewProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const cursorRef = useRef<HTMLCanvasElement>(null);
  const playerRef = useRef<RecordingPlayer | undefined>(undefined);
  const [load, setLoad] = useState<LoadState>({ state: 'loading' });
  const [time, setTime] = useState(0);
  const [duration, setDuration] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [track, setTrack] = useState<TrackItem[]>([]);
  const [exports, setExports] = useState<Exports>({ video: false, shells: [] });
  const exportUrl = `/api/sessions/${encodeURIComponent(sessionId)}/recording/export`;

  useEffect(() => {
    const abort = new AbortController();
    (async () => {
      const response = await fetch(`/api/sessions/${encodeURIComponent(sessionId)}/recording/content`, {
        credentials: 'same-origin',
        signal: abort.signal,
      });
      if (response.status === 404) throw new Error('This session has no recording.');
      if (!response.ok) throw new Error(`The recording could not be loaded (${response.status}).`);
      const decoded = decodeRecording(await response.arrayBuffer());
      if (!decoded.ok) throw new Error(`The recording is unreadable: ${decoded.reason}.`);
      if (!canvasRef.current || abort.signal.aborted) return;
      const cursor = cursorRef.current ? new RemoteCursor(canvasRef.current, cursorRef.current) : undefined;
      const player = new RecordingPlayer(
        canvasRef.current,
        decoded.records,
        (ms) => {
          setTime(ms);
          setPlaying(playerRef.current?.playing ?? false);
        },
        cursor,
      );
      playerRef.current = player;
      setTrack(decoded.records.flatMap((record) => trackItemOf(record) ?? []));
      setExports(exportsOf(decoded.records));
      setDuration(player.duration);
      setLoad({ state: 'ready' });
      player.seek(0);
    })().catch((error: unknown) => {
      if (!abort.signal.aborted)
        setLoad({ state: 'failed', message: error instanceof Error ? error.message : String(error) });
    });
    return () => {
      abort.abort();
      playerRef.current?.close();
      playerRef.current = undefined;
    };
  }, [sessionId]);

  const toggle = () => {
    const player = playerRef.current;
    if (!player) return;
    if (player.playing) player.pause();
    else player.play();
    setPlaying(player.playing);
  };

  return (
    <div class="recording-player" data-testid="recording-player" data-state={load.state}>
      <div class="recording-player__panel">
        <div class="recording-player__head">
          <strong>Recording of session {sessionId.slice(0, 8)}</strong>
          {load.state === 'ready' && (
            <span class="recording-player__exports">
              {exports.video && (
                <a
                  class="btn btn--ghost btn--small"
                  href={`${exportUrl}?format=mp4`}
                  download
                  data-testid="recording-export-mp4"
                  title="The video as MP4, for any video player (audited)"
                >
                  Export MP4
                </a>
              )}
              {exports.shells.map((channel, index) => (
                <a
                  key={channel}
                  class="btn btn--ghost btn--small"
                  href={`${exportUrl}?format=asciicast&channel=${channel}`}
                  download
                  data-testid="recording-export-asciicast"
                  title="This shell's output as an asciicast file, for asciinema (audited)"
                >
                  Export shell {index + 1} (asciicast)
                </a>
              ))}
            </span>
          )}
          <button
            type="button"
            class="btn btn--ghost btn--small"
            data-testid="recording-close"
            onClick={onClose}
          >
            Close
          </button>
        </div>
        {load.state === 'failed' && (
          <div class="recording-player__error" data-testid="recording-error">
            {load.message}
          </div>
        )}
        {load.state === 'loading' && <div class="recording-player__loading">Loading the recording…</div>}
        <div class="recording-player__body">
          <div class="recording-player__picture">
            <canvas ref={canvasRef} class="recording-player__screen" data-testid="recording-screen" />
            <canvas ref={cursorRef} class="remote-cursor" data-testid="recording-cursor" hidden />
          </div>
          <ol class="recording-player__track" data-testid="recording-track">
            {track.map((item) => (
              <li
                key={`${item.at}-${item.text}`}
                class={`recording-player__item recording-player__item--${item.kind}`}
                data-at={item.at}
              >
                <button
                  type="button"
                  class="recording-player__time"
                  onClick={() => playerRef.current?.seek(item.at)}
                >
                  {position(item.at)}
                </button>{' '}
                {item.text}
              </li>
            ))}
          </ol>
        </div>
        <div class="recording-player__controls">
          <button
            type="button"
            class="btn btn--secondary btn--small"
            data-testid="recording-play"
            disabled={load.state !== 'ready'}
            onClick={toggle}
          >
            {playing ? 'Pause' : 'Play'}
          </button>
          <input
            type="range"
            class="recording-player__slider"
            data-testid="recording-seek"
            min={0}
            max={Math.max(1, Math.round(duration))}
            value={Math.round(time)}
            disabled={load.state !== 'ready'}
            onInput={(event) => playerRef.current?.seek(Number((event.target as HTMLInputElement).value))}
          />
          <span class="recording-player__clock" data-testid="recording-clock">
            {position(time)} / {position(duration)}
          </span>
        </div>
      </div>
    </div>
  );
}
