#!/usr/bin/env python3
"""A constrained network link between this network namespace and a new one, emulated in user space.

This kernel has no netem qdisc, so the link is two TUN interfaces and this process between them:
`near` stays in the caller's namespace, `far` is moved into namespace NS. Every IP packet one side
sends is read here and written to the other side after passing an emulated bottleneck, per
direction:

  random loss  ->  bounded FIFO (drops the arriving packet when full)  ->  token bucket at RATE
               ->  fixed one-way delay  ->  delivered

as a real bottleneck router does: a burst beyond the rate waits in the queue, a burst beyond the
queue is lost, and every packet takes at least the propagation delay. Needs root (ip netns,
/dev/net/tun). Python because Node cannot issue the TUNSETIFF ioctl.

Prints one line `ready` once both ends are configured, and on exit (SIGTERM/SIGINT) one JSON line
of counters per direction. Removes the namespace (and with it `far`) on the way out; `near` goes
when this process closes it.

Usage: tun-link.py --namespace NS --near-address 10.213.0.1 --far-address 10.213.0.2
                   --rate-kbit 4000 --delay-ms 30 --loss 0.005 --queue-bytes 50000 [--seed N]
"""

import argparse
import collections
import fcntl
import heapq
import json
import os
import random
import select
import signal
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
# Largest packet read from a TUN device: its MTU is 1500, this leaves room.
READ_BYTES = 65536
# Bytes the token bucket may hold: one full packet, so it smooths to RATE without a large burst.
BUCKET_BYTES = 1514


def ip(*args, namespace=None):
    command = ['ip', '-n', namespace, *args] if namespace else ['ip', *args]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def open_tun(name):
    fd = os.open('/dev/net/tun', os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


class Direction:
    """One way through the bottleneck: loss, a bounded queue, a token bucket, then a delay."""

    def __init__(self, name, out_fd, rate_bytes_per_s, delay_s, loss, queue_bytes, rng):
        self.name = name
        self.out_fd = out_fd
        self.rate = rate_bytes_per_s
        self.delay = delay_s
        self.loss = loss
        self.queue_limit = queue_bytes
        self.rng = rng
        self.queue = collections.deque()
        self.queued = 0
        self.tokens = BUCKET_BYTES
        self.refilled_at = time.monotonic()
        # (deliver at, order, packet): packets past the bottleneck, waiting out the delay.
        self.in_flight = []
        self.order = 0
        self.counts = {
            'packets': 0,
            'delivered': 0,
            'droppedLoss': 0,
            'droppedQueueFull': 0,
            'maxQueuedBytes': 0,
        }

    def arrive(self, packet, now):
        self.counts['packets'] += 1
        if self.loss > 0 and self.rng.random() < self.loss:
            self.counts['droppedLoss'] += 1
            return
        if self.queued + len(packet) > self.queue_limit:
            self.counts['droppedQueueFull'] += 1
            return
        self.queue.append(packet)
        self.queued += len(packet)
        self.counts['maxQueuedBytes'] = max(self.counts['maxQueuedBytes'], self.queued)
        self.serve(now)

    def serve(self, now):
        """Moves packets the bucket can pay for from the queue into the delay line."""
        self.tokens = min(BUCKET_BYTES, self.tokens + (now - self.refilled_at) * self.rate)
        self.refilled_at = now
        while self.queue and self.tokens >= len(self.queue[0]):
            packet = self.queue.popleft()
            self.queued -= len(packet)
            self.tokens -= len(packet)
            self.order += 1
            heapq.heappush(self.in_flight, (now + self.delay, self.order, packet))

    def deliver(self, now):
        while self.in_flight and self.in_flight[0][0] <= now:
            _, _, packet = heapq.heappop(self.in_flight)
            try:
                os.write(self.out_fd, packet)
                self.counts['delivered'] += 1
            except OSError:
                # The far side is down or its queue is full: the packet is lost, as on a wire.
                pass

    def next_event(self):
        """Seconds from the monotonic epoch of the next thing to do, or None when idle."""
        times = []
        if self.in_flight:
            times.append(self.in_flight[0][0])
        if self.queue:
            missing = len(self.queue[0]) - self.tokens
            times.append(self.refilled_at + max(0.0, missing) / self.rate)
        return min(times) if times else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--namespace', required=True)
    parser.add_argument('--near-address', required=True)
    parser.add_argument('--far-address', required=True)
    parser.add_argument('--rate-kbit', type=float, required=True)
    parser.add_argument('--delay-ms', type=float, required=True, help='one way, each direction')
    parser.add_argument('--loss', type=float, default=0.0, help='share of packets lost at random, each direction')
    parser.add_argument('--queue-bytes', type=int, required=True, help='bottleneck queue per direction')
    parser.add_argument('--seed', type=int, default=None)
    args = parser.parse_args()

    namespace = args.namespace
    tag = namespace[-8:]
    near_name, far_name = f'lln-{tag}', f'llf-{tag}'
    stopping = False

    def stop(_signal, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # A signal writes to this pipe, which wakes the select below at once (Python retries a select
    # interrupted by a signal with the rest of its timeout).
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)

    subprocess.run(['ip', 'netns', 'del', namespace], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    near = far = None
    directions = []
    try:
        ip('netns', 'add', namespace)
        near = open_tun(near_name)
        far = open_tun(far_name)
        ip('link', 'set', far_name, 'netns', namespace)
        # No IPv6 link-local addresses: their router solicitations would cross the link unasked.
        ip('link', 'set', 'dev', near_name, 'addrgenmode', 'none')
        ip('link', 'set', 'dev', far_name, 'addrgenmode', 'none', namespace=namespace)
        ip('addr', 'add', args.near_address, 'peer', args.far_address, 'dev', near_name)
        ip('link', 'set', near_name, 'up')
        ip('link', 'set', 'lo', 'up', namespace=namespace)
        ip('addr', 'add', args.far_address, 'peer', args.near_address, 'dev', far_name, namespace=namespace)
        ip('link', 'set', far_name, 'up', namespace=namespace)

        rng = random.Random(args.seed)
        rate = args.rate_kbit * 1000 / 8
        delay = args.delay_ms / 1000
        outward = Direction('outward', far, rate, delay, args.loss, args.queue_bytes, rng)
        inward = Direction('inward', near, rate, delay, args.loss, args.queue_bytes, rng)
        directions = [outward, inward]
        source = {near: outward, far: inward}
        print('ready', flush=True)

        while not stopping:
            now = time.monotonic()
            wakes = [t for t in (d.next_event() for d in directions) if t is not None]
            timeout = max(0.0, min(wakes) - now) if wakes else 0.5
            try:
                readable, _, _ = select.select([near, far, wake_read], [], [], timeout)
            except InterruptedError:
                continue
            now = time.monotonic()
            for fd in readable:
                direction = source.get(fd)
                if direction is None:
                    continue
                # Drain what is there: a burst arrives together and meets the queue together.
                while True:
                    try:
                        packet = os.read(fd, READ_BYTES)
                    except BlockingIOError:
                        break
                    direction.arrive(packet, now)
            for direction in directions:
                direction.serve(now)
                direction.deliver(now)
    except subprocess.CalledProcessError as error:
        print(f'tun-link: {" ".join(error.cmd)}: {error.stderr.decode().strip()}', file=sys.stderr, flush=True)
        return 1
    finally:
        subprocess.run(['ip', 'netns', 'del', namespace], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in (near, far):
            if fd is not None:
                os.close(fd)
        if directions:
            print(json.dumps({d.name: d.counts for d in directions}), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
