import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mountRoots } from '../../agent/files/device-roots.ts';

describe('the mounts offered as roots', () => {
  it('pseudo file systems are left out, an overlay at / is kept, escaped names are decoded', () => {
    const procMounts = [
      'overlay / overlay rw,relatime 0 0',
      'proc /proc proc rw 0 0',
      'tmpfs /dev tmpfs rw 0 0',
      'sysfs /sys sysfs ro 0 0',
      'cgroup /sys/fs/cgroup cgroup2 ro 0 0',
      '/dev/sda1 /home ext4 rw 0 0',
      '/dev/sdb1 /media/My\\040Disk vfat rw 0 0',
      'overlay /var/lib/docker/x overlay rw 0 0',
      '/dev/sda1 /home ext4 rw 0 0',
    ].join('\n');
    assert.deepEqual(mountRoots(procMounts), ['/', '/home', '/media/My Disk']);
  });
});
