import { INPUT_STAGE_KEYS, type InputBreakdown } from '../parts/input-breakdown.ts';
import type { LatencyFigures } from '../parts/latency.ts';
import type { LinkReport } from '../parts/link.ts';
import type { MonitorFigures } from '../parts/monitors.ts';
import type { WorkloadFigures } from '../parts/workloads.ts';
import { type Distribution, ratio, round } from '../support/stats.ts';
import { SYSTEM_LABEL } from '../viewers/viewer.ts';
import { WORKLOAD_LABEL, WORKLOADS } from '../x11/workloads.ts';
import { channelsReport } from './channels-table.ts';
import type { BenchResults } from './results.ts';

type Cell = string | number | undefined;

function text(cell: Cell): string {
  if (cell === undefined) return '–';
  if (typeof cell === 'number') return Number.isFinite(cell) ? String(round(cell)) : '–';
  return cell;
}

/** A plain-text table with a header rule; numbers right-aligned. */
export function formatTable(headers: string[], rows: Cell[][]): string {
  const cells = [headers, ...rows.map((row) => row.map(text))];
  const widths = headers.map((_, c) => Math.max(...cells.map((row) => (row[c] ?? '').length)));
  const line = (row: string[], numeric: boolean[]) =>
    row.map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ');
  const numeric = headers.map((_, c) => rows.some((row) => typeof row[c] === 'number'));
  return [
    line(headers, numeric),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map((row) => line(row, numeric)),
  ].join('\n');
}

function latencyTable(figures: LatencyFigures[]): string {
  const rows: Cell[][] = [];
  const resolutions = [...new Set(figures.map((f) => f.resolution))];
  const kinds = [
    ['input → display', (f: LatencyFigures) => ({ ...f.inputToDisplay, unseen: f.inputToDisplay.lost })],
    [
      'input → display, full screen',
      (f: LatencyFigures) =>
        f.fullScreenInputToDisplay && {
          ...f.fullScreenInputToDisplay,
          unseen: f.fullScreenInputToDisplay.lost,
        },
    ],
    ['display → viewer', (f: LatencyFigures) => ({ ...f.displayToViewer, unseen: f.displayToViewer.missed })],
  ] as const;
  for (const [label, pick] of kinds) {
    // Results written before a figure existed (or a run that failed before it) leave its rows out.
    if (!figures.some((f) => pick(f))) continue;
    for (const resolution of resolutions) {
      const find = (system: string) =>
        figures.find((f) => f.system === system && f.resolution === resolution);
      const lifeline = find('lifeline');
      const vnc = find('vnc');
      const l = lifeline && pick(lifeline);
      const v = vnc && pick(vnc);
      rows.push([
        label,
        resolution,
        l?.count,
        l?.p50,
        l?.p95,
        l?.p99,
        v?.p50,
        v?.p95,
        v?.p99,
        ratio(l?.p50, v?.p50),
        ratio(l?.p99, v?.p99),
        `${text(l?.unseen)}/${text(v?.unseen)}`,
      ]);
    }
  }
  return formatTable(
    [
      'latency, ms',
      'screen',
      'n',
      'LL p50',
      'LL p95',
      'LL p99',
      'VNC p50',
      'VNC p95',
      'VNC p99',
      'p50 ×',
      'p99 ×',
      'not shown LL/VNC',
    ],
    rows,
  );
}

/** The desktop a workload ran on; results written before the 1080p video were all 1280x720. */
const resolutionOf = (f: WorkloadFigures) => f.resolution ?? '1280x720';

function workloadTable(figures: WorkloadFigures[]): string {
  const resolutions = [...new Set(figures.map(resolutionOf))];
  const measured = resolutions.flatMap((resolution) =>
    WORKLOADS.filter((name) =>
      figures.some((f) => f.workload === name && resolutionOf(f) === resolution),
    ).map((name) => ({ name, resolution })),
  );
  const rows: Cell[][] = measured.map(({ name, resolution }) => {
    const find = (system: string) =>
      figures.find((f) => f.system === system && f.workload === name && resolutionOf(f) === resolution);
    const l = find('lifeline');
    const v = find('vnc');
    return [
      `${WORKLOAD_LABEL[name]}, ${resolution}`,
      l?.fps,
      l?.contentFps,
      l?.kbps,
      l?.keyframeShare === undefined ? undefined : l.keyframeShare * 100,
      l?.skippedPerS,
      l?.hostCpu,
      l?.relayCpu,
      v?.fps,
      v?.contentFps,
      v?.kbps,
      v?.hostCpu,
      v?.relayCpu,
      ratio(l?.kbps, v?.kbps),
      ratio(l?.hostCpu, v?.hostCpu),
    ];
  });
  return formatTable(
    [
      'workload, screen',
      'LL fps',
      'LL video fps',
      'LL kbit/s',
      'LL key %',
      'LL skipped/s',
      'agent CPU',
      'relay CPU',
      'VNC fps',
      'VNC video fps',
      'VNC kbit/s',
      'x11vnc CPU',
      'websockify CPU',
      'kbit/s ×',
      'CPU ×',
    ],
    rows,
  );
}

/** The first-picture probe of the still desktop, one line, when it was measured. */
function joinLine(figures: WorkloadFigures[]): string[] {
  const still = (system: string) =>
    figures.find((f) => f.system === system && f.workload === 'still')?.firstPicture;
  const l = still('lifeline');
  const v = still('vnc');
  if (!l && !v) return [];
  const video = figures.find((f) => f.system === 'lifeline' && f.workload === 'still')?.firstVideo;
  return [
    `A viewer joining the still desktop, socket open → first picture (ms, p50 / max of ${l?.count ?? v?.count}): Lifeline ${text(l?.p50)} / ${text(l?.max)} (first video unit in ${text(video?.p50)} / ${text(video?.max)}), x11vnc+noVNC ${text(v?.p50)} / ${text(v?.max)}, × ${text(ratio(l?.p50, v?.p50))}`,
  ];
}

/**
 * Two monitors against one: per workload and view, kbit/s and desktop-side CPU, Lifeline beside the
 * peer (which views the two-monitor desktop whole only), and Lifeline against its own single monitor.
 */
function monitorTable(figures: MonitorFigures[]): string {
  const find = (system: string, view: string, workload: string) =>
    figures.find((f) => f.system === system && f.view === view && f.workload === workload);
  const workloads = [...new Set(figures.map((f) => f.workload))];
  const views = ['single', 'one of two', 'both'] as const;
  const rows: Cell[][] = workloads.flatMap((workload) =>
    views.map((view): Cell[] => {
      const l = find('lifeline', view, workload);
      const v = find('vnc', view, workload);
      const single = find('lifeline', 'single', workload);
      return [
        `${WORKLOAD_LABEL[workload]}, ${view === 'single' ? 'one monitor' : `two monitors, viewing ${view === 'both' ? 'both' : 'one'}`}`,
        l?.screen ?? v?.screen,
        l?.fps,
        l?.kbps,
        l?.hostCpu,
        v?.kbps,
        v?.hostCpu,
        ratio(l?.kbps, v?.kbps),
        ratio(l?.hostCpu, v?.hostCpu),
        view === 'single' ? undefined : ratio(l?.kbps, single?.kbps),
        view === 'single' ? undefined : ratio(l?.hostCpu, single?.hostCpu),
      ];
    }),
  );
  return formatTable(
    [
      'monitors',
      'X screen',
      'LL fps',
      'LL kbit/s',
      'agent CPU',
      'VNC kbit/s',
      'x11vnc CPU',
      'kbit/s ×',
      'CPU ×',
      'kbit/s × one',
      'CPU × one',
    ],
    rows,
  );
}

function linkTable(report: LinkReport): string {
  const kib = (bytes: number | undefined) => (bytes === undefined ? undefined : bytes / 1024);
  const rows: Cell[][] = report.figures.map((f) => [
    `${SYSTEM_LABEL[f.system]}, ${f.phase}`,
    f.inputToDisplay.p50,
    f.inputToDisplay.p95,
    f.inputToDisplay.p99,
    `${f.inputToDisplay.lost} of ${f.inputToDisplay.pressed}`,
    f.fps,
    f.kbps,
    kib(f.maxQueueBytes),
    kib(f.queueBytesPerSecond.at(-1)),
    f.queueGrew ? 'grew' : 'no',
    f.adaptation ?? '',
  ]);
  const shape = report.figures[0]?.link;
  const counters = report.counters;
  const dropped = counters
    ? `; the link forwarded ${counters.outward.delivered} packets to the viewer, lost ${counters.outward.droppedLoss} at random and ${counters.outward.droppedQueueFull} at its full queue`
    : '';
  return [
    `Thin link to the viewer (${shape?.rateKbit} kbit/s, ${shape?.rttMs} ms RTT, ${(shape?.loss ?? 0) * 100} % loss, ${shape?.queueMs} ms queue)${dropped}`,
    formatTable(
      [
        'system, phase',
        'input p50',
        'p95',
        'p99',
        'not shown',
        'fps',
        'kbit/s',
        'queue max KiB',
        'queue at end KiB',
        'queue grew',
        'adaptation',
      ],
      rows,
    ),
  ].join('\n');
}

/** Names of the input stages in the breakdown line, in `INPUT_STAGE_KEYS` order. */
const INPUT_STAGE_LABELS: Record<(typeof INPUT_STAGE_KEYS)[number], string> = {
  input: 'key → client',
  desktop: 'client → agent sent',
  toConsole: 'to the console',
  toDecoder: 'to decode()',
  decoding: 'decoding',
  converting: 'converting',
  drawing: 'drawing',
  sincePrevious: 'sent since the previous picture',
  earlier: 'pictures before it since the press',
};

/** One line: each stage of input → display for the median sample and (mean) for the slowest 5 %. */
function inputBreakdownLine(label: string, breakdown: InputBreakdown): string {
  const { median, slowest } = breakdown;
  const stages = INPUT_STAGE_KEYS.map(
    (key) => `${INPUT_STAGE_LABELS[key]} ${text(median[key])} / ${text(slowest[key])}`,
  );
  return `Lifeline ${label}, input → display by stage (ms, median / slowest 5 % (${breakdown.slowestCount}) mean): total ${text(median.total)} / ${text(slowest.total)}; ${stages.join('; ')}`;
}

/** The run's figures as text tables, Lifeline (LL) beside the VNC peer with LL/VNC ratios (×). */
export function formatTables(results: BenchResults): string {
  const out: string[] = [];
  if (results.latency?.length) {
    out.push(
      'Latency (ms; input → display on the browser clock; display → viewer on the system clock)',
      latencyTable(results.latency),
      ...results.latency
        .filter((f) => f.sentToDrawn)
        .map(
          (f) =>
            `Lifeline ${f.resolution}: of display → viewer, agent send → drawn p50 ${text(f.sentToDrawn?.p50)} ms, p99 ${text(f.sentToDrawn?.p99)} ms (the rest passes on the desktop before the agent sends: capture wait, encoding, cutting access units); ${f.skipped} access units skipped by the console to catch up`,
        ),
      ...results.latency
        .filter((f) => f.stages)
        .map((f) => {
          const stage = (d: Distribution | undefined) =>
            `${text(d?.p50)} / ${text(d?.p95)} / ${text(d?.p99)}`;
          return `Lifeline ${f.resolution}, agent send → drawn by stage (ms p50 / p95 / p99): to the console ${stage(f.stages?.toConsole)}; to decode() ${stage(f.stages?.toDecoder)}; decoding ${stage(f.stages?.decoding)}; converting ${stage(f.stages?.converting)}; drawing ${stage(f.stages?.drawing)}`;
        }),
      ...results.latency.flatMap((f) =>
        (['counter', 'fullScreen'] as const).flatMap((change) => {
          const breakdown = f.inputBreakdown?.[change];
          return breakdown
            ? [
                inputBreakdownLine(
                  `${f.resolution} ${change === 'counter' ? 'counter' : 'full screen'}`,
                  breakdown,
                ),
              ]
            : [];
        }),
      ),
      '',
    );
  }
  if (results.workloads?.length) {
    out.push(
      'Frame rate, bandwidth and CPU at the viewer (fps: pictures drawn; video fps: distinct video frames; key %: keyframe share of the bytes; skipped: access units the console dropped to catch up; CPU: s/s)',
      workloadTable(results.workloads),
      ...joinLine(results.workloads),
      '',
    );
  }
  if (results.monitors?.length) {
    out.push(
      'Several monitors (CPU: s/s on the desktop side; × one: Lifeline against its own single-monitor figure; the peer has no monitor choice and views both)',
      monitorTable(results.monitors),
      '',
    );
  }
  if (results.link?.figures.length) out.push(linkTable(results.link), '');
  const relay = results.relay;
  if (relay) {
    out.push(
      'Relay vs a direct loopback WebSocket (one-way ms per frame; 2 Mbit/s = 30 fps × 8.3 kB per session; stall: event-loop delay, ms)',
      formatTable(
        [
          'sessions',
          'direct p50',
          'direct p99',
          'relay p50',
          'relay p99',
          'added p50',
          'added p99',
          'relay CPU',
          'delivered',
        ],
        [
          [
            1,
            relay.single.direct.latency.p50,
            relay.single.direct.latency.p99,
            relay.single.relay.latency.p50,
            relay.single.relay.latency.p99,
            relay.single.addedP50Ms,
            relay.single.addedP99Ms,
            relay.single.relay.relayCpu,
            relay.single.relay.relayLoopDelay?.max,
            relay.single.relay.delivered * 100,
          ],
          ...relay.loads.map((load): Cell[] => [
            load.relay.sessions,
            load.direct.latency.p50,
            load.direct.latency.p99,
            load.relay.latency.p50,
            load.relay.latency.p99,
            load.relay.latency.p50 - load.direct.latency.p50,
            load.addedP99Ms,
            load.relay.relayCpu,
            load.relay.relayLoopDelay?.max,
            load.relay.delivered * 100,
          ]),
        ],
      ),
      `throughput, one sender, 64 KiB frames, 1 MiB in flight: direct ${text(relay.throughput.directMBps)} MB/s, relay ${text(relay.throughput.relayMBps)} MB/s (× ${text(ratio(relay.throughput.relayMBps, relay.throughput.directMBps))}), relay CPU ${text(relay.throughput.relayCpu)} s/s = ${text(relay.throughput.relayCpuSecondsPerGB)} CPU s per GB forwarded, ${relay.throughput.relayDropped} frames dropped by the relay`,
      `slow reader: ${text(relay.slowReader.offeredMB)} MB offered in ${text(relay.slowReader.seconds)} s, ${text(relay.slowReader.receivedMB)} MB read; relay RSS ${text(relay.slowReader.rssBeforeMB)} → peak ${text(relay.slowReader.rssPeakMB)} MB; ${relay.slowReader.droppedFrames} frames dropped; ${relay.slowReader.disconnected ? 'disconnected' : 'kept'}; ${relay.slowReader.recovered ? 'fresh video after catching up' : 'no fresh video after catching up'}`,
      '',
    );
  }
  if (results.channels) out.push(...channelsReport(results.channels), '');
  const codes = results.codes;
  if (codes) {
    out.push(
      `Connection codes (${codes.codes}, ${codes.concurrency} in flight): issued ${text(codes.issuedPerS)}/s (p50 ${text(codes.issueLatency.p50)} ms, p99 ${text(codes.issueLatency.p99)} ms), redeemed ${text(codes.redeemedPerS)}/s (p50 ${text(codes.redeemLatency.p50)} ms, p99 ${text(codes.redeemLatency.p99)} ms)`,
      '',
    );
  }
  const devices = results.devices;
  if (devices) {
    for (const [where, figures] of [
      ['device hub', devices.hub],
      ['relay', devices.relay],
    ] as const) {
      out.push(
        `Idle agents on the ${where} (${figures.agents}): ${text(figures.rssPerAgentKB)} KB RSS each (${text(figures.heapPerAgentKB)} KB heap), ${text(figures.rssMB)} MB in all; ${figures.dropped} dropping at once: event loop stalled at most ${text(figures.dropStallMaxMs)} ms (p99 ${text(figures.dropStallP99Ms)} ms), ${figures.noticed} of them marked gone within 5 s`,
      );
    }
    out.push('');
  }
  if (results.agentPackage) {
    out.push(
      'Agent executables',
      formatTable(
        ['figure', 'value'],
        Object.entries(results.agentPackage).map(([name, value]): Cell[] => [name, value]),
      ),
      '',
    );
  }
  out.push(
    `${results.date}, commit ${results.commit}, ${results.machine.cpus} × ${results.machine.cpuModel}, ${results.machine.memoryGiB} GiB, Linux ${results.machine.kernel}, Node ${results.machine.node}; ${Math.round(results.seconds)} s${results.quick ? ' (quick run: fewer samples)' : ''}; load average ${results.load.start} at the start, ${results.load.end} at the end. LL = Lifeline, VNC = ${SYSTEM_LABEL.vnc}.`,
  );
  return out.join('\n');
}
