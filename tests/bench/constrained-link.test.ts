import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, describe, it } from 'node:test';
import { type ConstrainedLink, startConstrainedLink } from '../../bench/link/constrained-link.ts';
import { startProcess } from '../../bench/support/processes.ts';

/** A UDP echo server: every datagram goes back to its sender. */
const ECHO = `
const socket = require('node:dgram').createSocket('udp4');
socket.on('message', (data, from) => socket.send(data, from.port, from.address));
socket.bind(Number(process.argv[2]), process.argv[1], () => console.log('listening'));
`;
const ECHO_PORT = 47_913;

/** Starts the echo server on the link's far side and resolves once it listens. */
async function farEcho(link: ConstrainedLink): Promise<() => Promise<void>> {
  const [command, args] = link.inFarSide(process.execPath, ['-e', ECHO, link.farAddress, String(ECHO_PORT)]);
  const echo = startProcess('udp echo', command, args);
  await new Promise<void>((resolve, reject) => {
    const off = echo.onLine((line) => {
      if (line === 'listening') {
        off();
        resolve();
      }
    });
    void echo.exited.then(() => reject(new Error(`the echo server exited: ${echo.output()}`)));
  });
  return () => echo.stop();
}

describe('the benchmark link emulator (TUN to TUN between two network namespaces)', () => {
  const links: ConstrainedLink[] = [];
  after(async () => {
    for (const link of links) await link.stop();
  });

  it('delays every packet by at least the configured round trip', async () => {
    const rttMs = 200;
    const link = await startConstrainedLink({ rateKbit: 10_000, rttMs, loss: 0, queueMs: 100 });
    links.push(link);
    const stopEcho = await farEcho(link);
    const socket = createSocket('udp4');
    try {
      const rtts: number[] = [];
      for (let i = 0; i < 5; i++) {
        const sentAt = performance.now();
        const back = new Promise<void>((resolve) => socket.once('message', () => resolve()));
        socket.send(Buffer.from(`probe ${i}`), ECHO_PORT, link.farAddress);
        await back;
        rtts.push(performance.now() - sentAt);
      }
      for (const rtt of rtts)
        assert.ok(rtt >= rttMs, `a round trip took ${rtt} ms, under the link's ${rttMs}`);
    } finally {
      socket.close();
      await stopEcho();
    }
    const counters = await link.stop();
    assert.equal(counters?.outward.delivered, 5);
    assert.equal(counters?.inward.delivered, 5);
  });

  it('drops what arrives while its bottleneck queue is full, and delivers what fits', async () => {
    // 100 kbit/s drains 12.5 bytes a ms; a 30 ms queue holds about 3 of these 1000-byte datagrams.
    const link = await startConstrainedLink({ rateKbit: 100, rttMs: 20, loss: 0, queueMs: 30 });
    links.push(link);
    const stopEcho = await farEcho(link);
    const socket = createSocket('udp4');
    const burst = 40;
    try {
      const payload = Buffer.alloc(1000, 0x5a);
      const echoed = new Promise<void>((resolve) => socket.once('message', () => resolve()));
      for (let i = 0; i < burst; i++) {
        await new Promise<void>((resolve) =>
          socket.send(payload, ECHO_PORT, link.farAddress, () => resolve()),
        );
      }
      // What the queue held drains at the link's rate; one echo back says the far side got some.
      await echoed;
    } finally {
      socket.close();
      await stopEcho();
    }
    const counters = await link.stop();
    assert.ok(counters, 'the link printed no counters');
    assert.equal(counters.outward.packets, burst);
    assert.equal(counters.outward.droppedLoss, 0);
    assert.ok(counters.outward.droppedQueueFull > 0, 'a burst forty times the queue lost nothing');
    assert.ok(counters.outward.delivered > 0, 'nothing got through');
    assert.ok(
      counters.outward.maxQueuedBytes <= 3_000 + 1_100,
      `queued ${counters.outward.maxQueuedBytes} bytes`,
    );
  });
});
