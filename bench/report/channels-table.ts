import type { ChannelFigures, LatencyComparison, ThroughputFigures } from '../parts/channels.ts';
import { round } from '../support/stats.ts';
import { formatTable } from './table.ts';

type Cell = string | number | undefined;

const MiB = 1024 * 1024;

function ratio(value: number): number {
  return Math.round(value * 100) / 100;
}

function throughputRow(label: string, figures: ThroughputFigures): Cell[] {
  return [
    label,
    figures.relayRuns.length,
    figures.relayMiBps,
    figures.directMiBps,
    ratio(figures.ratio),
    'bare loopback WebSocket',
  ];
}

function latencyRows(label: string, figures: LatencyComparison, baseline: string): Cell[][] {
  return [
    [
      `${label} p50, ms`,
      figures.relay.count,
      figures.relay.p50,
      figures.local.p50,
      ratio(figures.ratioP50),
      baseline,
    ],
    [
      `${label} p95, ms`,
      figures.relay.count,
      figures.relay.p95,
      figures.local.p95,
      ratio(figures.relay.p95 / figures.local.p95),
      baseline,
    ],
  ];
}

/**
 * The channels part as a table (Lifeline beside the baseline measured in the same run, with their
 * ratio) and a line on the slow operator.
 */
export function channelsReport(figures: ChannelFigures): string[] {
  const rows: Cell[][] = [
    throughputRow('file download, MiB/s', figures.download),
    throughputRow('file upload, MiB/s', figures.upload),
    ...latencyRows('keystroke echo', figures.keystrokes, 'local PTY (node-pty)'),
    ...latencyRows(`exec "${figures.exec.command}"`, figures.exec, 'local spawn'),
  ];
  const api = figures.api;
  if (api) {
    rows.push(
      [
        'API download, MiB/s',
        api.downloadRuns.length,
        api.downloadMiBps,
        figures.download.relayMiBps,
        ratio(api.downloadVsWebSocket),
        'WebSocket through the relay',
      ],
      [
        'API upload, MiB/s',
        api.uploadRuns.length,
        api.uploadMiBps,
        figures.upload.relayMiBps,
        ratio(api.uploadVsWebSocket),
        'WebSocket through the relay',
      ],
      [
        'API exec p50, ms',
        api.exec.count,
        api.exec.p50,
        figures.exec.relay.p50,
        ratio(api.execVsWebSocketP50),
        'WebSocket through the relay',
      ],
    );
  }
  const slow = figures.slowReader;
  return [
    `Channels: files (${figures.fileMiB} MiB random file, ${figures.chunkBytes / 1024} KiB chunks, ${figures.windowBytes / MiB} MiB window; median of the runs), shell keystrokes into cat in a raw PTY, commands; Lifeline = operator → relay → agent, each in its own process; the files baseline is the same chunks, window and acks between the operator and a bare ws server in its own process; × = Lifeline / baseline`,
    formatTable(['channels', 'n', 'Lifeline', 'baseline', '×', 'baseline is'], rows),
    `slow operator (reads ${round(slow.slowSeconds)} s at a trickle, then normally): ${round(slow.slowReadMiB)} MiB read while slow; the relay queued at most ${round(slow.maxQueuedBytes / 1024)} KiB for it (${slow.queueSource}, ${slow.queueSamples} samples; window ${figures.windowBytes / 1024} KiB) and ${round(slow.maxAgentQueuedBytes / 1024)} KiB for the agent; relay RSS ${round(slow.relayRssBeforeMiB)} → peak ${round(slow.relayRssPeakMiB)} MiB; file intact, operator kept`,
    ...(figures.apiSkipped ? [`HTTP API not measured: ${figures.apiSkipped}`] : []),
  ];
}
