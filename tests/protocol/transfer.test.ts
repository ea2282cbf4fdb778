import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  type ControlMessage,
  decodeFrame,
  FILE_CHUNK_BYTES,
  FILE_WINDOW_BYTES,
  type MessageOf,
} from '../../protocol/index.ts';
import { Sha256 } from '../../protocol/peer/sha256.ts';
import {
  type ChunkSource,
  FileReceiver,
  FileSender,
  isTransferError,
  type TransferLink,
  Watchdog,
} from '../../protocol/peer/transfer.ts';

const CHANNEL = 0x0001_0001;

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** A file in memory, read as a sender reads it. */
const sourceOf = (file: Uint8Array): ChunkSource => ({
  read: async (offset, length) => file.subarray(offset, offset + length),
});

/**
 * A sender and a receiver joined in memory, as two peers through the relay: chunks go to the
 * receiver (through `corrupt`, which may change them on the way), acknowledgements back to the
 * sender unless `ackHeld`. Records the largest amount ever in flight beyond the last acknowledgement.
 */
function pair(
  file: Uint8Array,
  options: { start?: number; corrupt?: (data: Uint8Array, offset: number) => Uint8Array } = {},
) {
  const start = options.start ?? 0;
  const state = {
    ackHeld: false,
    /** The last acknowledgement the sender got. */
    ackDelivered: start,
    mostInFlight: 0,
    failure: undefined as unknown,
    end: undefined as unknown,
  };
  const deliverAck = (offset: number) => {
    state.ackDelivered = Math.max(state.ackDelivered, offset);
    sender.ack(offset);
  };
  const kept: Uint8Array[] = [];
  const pendingAcks: number[] = [];
  let sender: FileSender;
  const receiverLink: TransferLink = {
    send: (message: ControlMessage) => {
      if (message.type !== 'file-ack') return;
      if (state.ackHeld) pendingAcks.push(message.offset);
      else deliverAck(message.offset);
    },
    sendBytes: () => {},
  };
  const receiver = new FileReceiver({
    link: receiverLink,
    channel: CHANNEL,
    start,
    size: file.byteLength,
    // A receiver that resumes holds the head already (the console keeps it), so its hash covers it.
    hasher: new Sha256().update(file.subarray(0, start)),
  });
  const senderLink: TransferLink = {
    send: (message: ControlMessage) => {
      if (message.type !== 'file-end') return;
      state.end = message;
      try {
        receiver.verify(message);
      } catch (error) {
        state.failure = error;
      }
    },
    sendBytes: (bytes: Uint8Array) => {
      const decoded = decodeFrame(bytes);
      assert.ok(decoded.ok && decoded.frame.kind === 'file');
      const frame = decoded.frame;
      const data = options.corrupt ? options.corrupt(frame.data, frame.offset) : frame.data;
      try {
        kept.push(receiver.accept({ offset: frame.offset, data }));
        state.mostInFlight = Math.max(state.mostInFlight, receiver.received - state.ackDelivered);
        receiver.credit();
      } catch (error) {
        state.failure = error;
      }
    },
  };
  sender = new FileSender({
    link: senderLink,
    channel: CHANNEL,
    size: file.byteLength,
    start,
    source: sourceOf(file),
    hasher: new Sha256(),
  });
  const releaseAcks = () => {
    state.ackHeld = false;
    for (const offset of pendingAcks.splice(0)) deliverAck(offset);
  };
  return { sender, receiver, state, kept, releaseAcks };
}

describe('shared file transfer', () => {
  it('a sender never runs more than the window past the last acknowledgement', async () => {
    const file = randomBytes(3 * FILE_WINDOW_BYTES + 12_345);
    const { sender, state, kept, releaseAcks } = pair(file);
    state.ackHeld = true;
    const running = sender.run();
    // With every acknowledgement held back, the sender stops at exactly one window.
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(sender.window.sentOffset, FILE_WINDOW_BYTES);
    assert.equal(state.mostInFlight, FILE_WINDOW_BYTES);

    releaseAcks();
    assert.equal(await running, file.byteLength);
    sender.end();
    assert.equal(state.failure, undefined);
    assert.ok(state.mostInFlight <= FILE_WINDOW_BYTES);
    assert.equal(sha256(Buffer.concat(kept)), sha256(file));
  });

  it('a transfer resumed from an offset sends only the rest, and the hash still covers the whole file', async () => {
    const file = randomBytes(FILE_WINDOW_BYTES + 100_000);
    const start = 300_000;
    const { sender, state, kept } = pair(file, { start });
    await sender.run();
    const sent = sender.end();
    assert.equal(state.failure, undefined);
    assert.equal(sent, sha256(file));
    assert.deepEqual((state.end as MessageOf<'file-end'>).size, file.byteLength);
    assert.equal(Buffer.concat(kept).byteLength, file.byteLength - start);
    assert.ok(Buffer.concat(kept).equals(file.subarray(start)));
  });

  it('a chunk corrupted on the way fails the hash check with CHECKSUM_MISMATCH and says so', async () => {
    const file = randomBytes(5 * FILE_CHUNK_BYTES);
    const { sender, state } = pair(file, {
      corrupt: (data, offset) => {
        if (offset !== 2 * FILE_CHUNK_BYTES) return data;
        const copy = new Uint8Array(data);
        copy[10] = (copy[10] ?? 0) ^ 0xff;
        return copy;
      },
    });
    await sender.run();
    sender.end();
    assert.ok(isTransferError(state.failure, 'checksum'), String(state.failure));
    assert.equal(state.failure.code, 'CHECKSUM_MISMATCH');
    assert.match(state.failure.message, /do not match the SHA-256/);
  });

  it('a chunk out of order or past the window is refused as MALFORMED', () => {
    const link: TransferLink = { send: () => {}, sendBytes: () => {} };
    const receiver = new FileReceiver({ link, channel: CHANNEL, start: 0, size: 10 * FILE_WINDOW_BYTES });
    assert.throws(
      () => receiver.accept({ offset: 100, data: new Uint8Array(10) }),
      (error) => isTransferError(error, 'out-of-order') && error.code === 'MALFORMED',
    );
    for (let offset = 0; offset < FILE_WINDOW_BYTES; offset += FILE_CHUNK_BYTES) {
      receiver.accept({ offset, data: new Uint8Array(FILE_CHUNK_BYTES) });
    }
    assert.throws(
      () => receiver.accept({ offset: FILE_WINDOW_BYTES, data: new Uint8Array(1) }),
      (error) => isTransferError(error, 'past-window') && error.code === 'MALFORMED',
    );
  });

  it('a sender whose receiver stops acknowledging gives up with TIMEOUT', async () => {
    const file = randomBytes(2 * FILE_WINDOW_BYTES);
    const silent: TransferLink = { send: () => {}, sendBytes: () => {} };
    const sender = new FileSender({
      link: silent,
      channel: CHANNEL,
      size: file.byteLength,
      start: 0,
      source: sourceOf(file),
      stallMs: 50,
    });
    await assert.rejects(
      sender.run(),
      (error) => isTransferError(error, 'stalled') && error.code === 'TIMEOUT',
    );
    assert.equal(sender.window.sentOffset, FILE_WINDOW_BYTES);
  });

  it('a receiver whose sender goes quiet is told by its watchdog, once; a stopped watchdog stays quiet', async () => {
    let stalls = 0;
    await new Promise<void>((resolve) => {
      const idle = new Watchdog(20, () => {
        stalls++;
        idle.kick(); // a watchdog that went off does not start again
        resolve();
      });
      idle.kick();
    });
    const stopped = new Watchdog(20, () => stalls++);
    stopped.kick();
    stopped.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(stalls, 1);
  });

  it('an acknowledgement past what was sent does not widen the window', () => {
    const link: TransferLink = { send: () => {}, sendBytes: () => {} };
    const sender = new FileSender({
      link,
      channel: CHANNEL,
      size: 10 * FILE_WINDOW_BYTES,
      start: 0,
      source: sourceOf(new Uint8Array(0)),
    });
    sender.window.sent(1000);
    assert.equal(sender.ack(5 * FILE_WINDOW_BYTES), false);
    assert.equal(sender.window.ackedOffset, 1000);
  });
});
