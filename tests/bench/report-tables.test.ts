import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LatencyFigures } from '../../bench/parts/latency.ts';
import type { MonitorFigures, MonitorView } from '../../bench/parts/monitors.ts';
import type { WindowFigures, WorkloadFigures } from '../../bench/parts/workloads.ts';
import { latencyChart } from '../../bench/report/chart.ts';
import type { BenchResults } from '../../bench/report/results.ts';
import { formatTables } from '../../bench/report/table.ts';
import { distribution } from '../../bench/support/stats.ts';
import type { System } from '../../bench/viewers/viewer.ts';

function run(figures: Partial<BenchResults>): BenchResults {
  return {
    date: '2026-12-07T11:00:00.000Z',
    commit: 'abc1234',
    machine: { cpus: 2, cpuModel: 'test CPU', memoryGiB: 24, kernel: '6.18', node: 'v20' },
    quick: true,
    parts: [],
    seconds: 60,
    load: { start: 1, end: 1 },
    ...figures,
  };
}

function latency(system: System, resolution: string, small: number[], fullScreen?: number[]): LatencyFigures {
  return {
    system,
    resolution,
    skipped: 0,
    inputToDisplay: { ...distribution(small), lost: 0 },
    ...(fullScreen ? { fullScreenInputToDisplay: { ...distribution(fullScreen), lost: 1 } } : {}),
    displayToViewer: { ...distribution([30]), missed: 0 },
    samples: {
      inputToDisplay: small,
      displayToViewer: [30],
      ...(fullScreen ? { fullScreenInputToDisplay: fullScreen } : {}),
    },
  };
}

function window(kbps: number, hostCpu: number, contentFps?: number): WindowFigures {
  return {
    seconds: 10,
    fps: 30,
    contentFps,
    kbps,
    keyframeShare: undefined,
    skippedPerS: 0,
    hostCpu,
    hostCpuByProcess: {},
    relayCpu: 0.01,
  };
}

/** The printed line of a table whose first cell starts with `label`, split into its cells. */
function row(text: string, label: string): string[] {
  const line = text.split('\n').find((l) => l.startsWith(label));
  assert.ok(line, `no row "${label}" in:\n${text}`);
  return line.trimEnd().split(/\s{2,}/);
}

describe('the benchmark report', () => {
  it('shows the full-screen change as its own input → display rows, with both systems and the ratio', () => {
    const text = formatTables(
      run({
        latency: [
          latency('lifeline', '1280x720', [40], [80]),
          latency('vnc', '1280x720', [20], [40]),
          latency('lifeline', '1920x1080', [60], [300]),
          latency('vnc', '1920x1080', [30], [100]),
        ],
      }),
    );
    // label, screen, n, LL p50/p95/p99, VNC p50/p95/p99, p50 ×, p99 ×, not shown
    assert.deepEqual(row(text, 'input → display, full screen  1280x720'), [
      'input → display, full screen',
      '1280x720',
      '1',
      '80',
      '80',
      '80',
      '40',
      '40',
      '40',
      '2',
      '2',
      '1/1',
    ]);
    assert.equal(row(text, 'input → display, full screen  1920x1080')[3], '300');
    assert.equal(row(text, 'input → display, full screen  1920x1080')[9], '3');
    assert.equal(row(text, 'input → display               1280x720')[3], '40');
  });

  it('leaves the full-screen rows out of results written before they were measured', () => {
    const text = formatTables(run({ latency: [latency('lifeline', '1280x720', [40])] }));
    assert.doesNotMatch(text, /full screen/);
    assert.doesNotMatch(
      latencyChart(run({ latency: [latency('lifeline', '1280x720', [40])] })) ?? '',
      /full-screen/,
    );
  });

  it("prints Lifeline's input → display stages, the median's beside the slowest 5 %'s", () => {
    const stages = (desktop: number, total: number) => ({
      total,
      input: 3,
      desktop,
      toConsole: 2,
      toDecoder: 0,
      decoding: 2,
      converting: 3,
      drawing: 4,
      sincePrevious: 100,
      earlier: desktop > 30 ? 1 : 0,
    });
    const figures = {
      ...latency('lifeline', '1280x720', [20]),
      inputBreakdown: { counter: { median: stages(6, 20), slowest: stages(40, 54), slowestCount: 6 } },
    };
    const text = formatTables(run({ latency: [figures] }));
    const line = text.split('\n').find((l) => l.startsWith('Lifeline 1280x720 counter, input → display'));
    assert.ok(line, text);
    assert.match(line, /total 20 \/ 54/);
    assert.match(line, /client → agent sent 6 \/ 40/);
    assert.match(line, /slowest 5 % \(6\)/);
    assert.doesNotMatch(text, /full screen, input → display by stage/);
  });

  it('charts the full-screen change in a panel of its own', () => {
    const svg = latencyChart(run({ latency: [latency('lifeline', '1280x720', [40], [80])] })) ?? '';
    assert.match(svg, /Input to display, full-screen change/);
  });

  it('shows the 1920x1080 video as its own workload row beside the 1280x720 ones', () => {
    const workloads: WorkloadFigures[] = [
      { system: 'lifeline', workload: 'video', resolution: '1280x720', ...window(2600, 0.4, 28) },
      { system: 'vnc', workload: 'video', resolution: '1280x720', ...window(5200, 0.1, 15) },
      { system: 'lifeline', workload: 'video', resolution: '1920x1080', ...window(4000, 0.8, 24.5) },
      { system: 'vnc', workload: 'video', resolution: '1920x1080', ...window(8000, 0.2, 10) },
      // Written before the resolution was recorded: 1280x720.
      { system: 'lifeline', workload: 'still', ...window(1, 0.01) },
    ];
    const text = formatTables(run({ workloads }));
    const big = row(text, 'full-motion video, 1920x1080');
    assert.equal(big[2], '24.5');
    assert.equal(big[3], '4000');
    assert.equal(big.at(-2), '0.5');
    assert.equal(big.at(-1), '4');
    assert.equal(row(text, 'full-motion video, 1280x720')[3], '2600');
    assert.equal(row(text, 'still desktop, 1280x720')[3], '1');
  });

  it('shows viewing one of two monitors and both against one monitor', () => {
    const monitor = (
      system: System,
      view: MonitorView,
      workload: 'still' | 'typing',
      kbps: number,
      cpu: number,
    ) =>
      ({
        system,
        view,
        workload,
        screen: view === 'single' ? '1280x720' : '2560x720',
        ...window(kbps, cpu),
      }) satisfies MonitorFigures;
    const text = formatTables(
      run({
        monitors: [
          monitor('lifeline', 'single', 'typing', 100, 0.2),
          monitor('lifeline', 'one of two', 'typing', 120, 0.3),
          monitor('lifeline', 'both', 'typing', 200, 0.4),
          monitor('vnc', 'both', 'typing', 20, 0.02),
        ],
      }),
    );
    assert.match(text, /Several monitors/);
    const both = row(text, 'typing in a terminal, two monitors, viewing both');
    // label, screen, LL fps, LL kbit/s, agent CPU, VNC kbit/s, x11vnc CPU, kbit/s ×, CPU ×, × one
    assert.deepEqual(both.slice(1), ['2560x720', '30', '200', '0.4', '20', '0.02', '10', '20', '2', '2']);
    const one = row(text, 'typing in a terminal, two monitors, viewing one');
    assert.deepEqual(one.slice(-2), ['1.2', '1.5']);
    assert.equal(row(text, 'typing in a terminal, one monitor')[3], '100');
  });
});
