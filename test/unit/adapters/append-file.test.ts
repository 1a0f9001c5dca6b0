import { mkdir, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppendFile } from '#lib/adapters/append-file.ts';
import { LocalEventSink } from '#lib/adapters/local-event-sink.ts';
import { OutboxSender } from '#lib/adapters/outbox-sender.ts';
import { memoryLog } from '#test/support/silent-log.ts';

/** How many of this process's file descriptors are open on `path` (Linux's /proc/self/fd). */
async function openDescriptors(path: string): Promise<number> {
  const fds = await readdir('/proc/self/fd');
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((target) => target === path).length;
}

describe('AppendFile', () => {
  let dir: string;
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('should append every line whole (one after another in call order) through one descriptor kept open', async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'switchboard-append-'));
    const path = join(dir, 'lines.jsonl');
    const file = new AppendFile(path);

    // Act: 100 lines at once, then 100 one after another
    await Promise.all(Array.from({ length: 100 }, (_, i) => file.append(`${i}\n`)));
    for (let i = 100; i < 200; i++) await file.append(`${i}\n`);

    // Assess
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    const byNumber = (a: string, b: string) => Number(a) - Number(b);
    expect(lines.slice(0, 100).sort(byNumber)).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    expect(lines.slice(100)).toEqual(Array.from({ length: 100 }, (_, i) => String(100 + i)));
    expect(await openDescriptors(path)).toBe(1);
  });

  it('should fail the lines it cannot write and open the file again for the next', async () => {
    // Prepare: a folder that does not exist yet
    dir = await mkdtemp(join(tmpdir(), 'switchboard-append-'));
    const path = join(dir, 'later', 'lines.jsonl');
    const file = new AppendFile(path);

    // Act
    const failed = await Promise.allSettled([file.append('a\n'), file.append('b\n')]);
    await mkdir(join(dir, 'later'));
    await file.append('c\n');

    // Assess
    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(await readFile(path, 'utf8')).toBe('c\n');
  });

  it('should write where the path leads: a file removed since is opened again, a folder removed fails the line', async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'switchboard-append-'));
    const path = join(dir, 'sink', 'lines.jsonl');
    await mkdir(join(dir, 'sink'));
    const file = new AppendFile(path);
    await file.append('a\n');

    // Act: the file goes, then its folder
    await rm(path);
    await file.append('b\n');
    const written = await readFile(path, 'utf8');
    await rm(join(dir, 'sink'), { recursive: true });
    const gone = await file.append('c\n').then(
      () => 'written',
      () => 'failed',
    );

    // Assess
    expect(written).toBe('b\n');
    expect(gone).toBe('failed');
  });

  it('should keep the local event sink’s and outbox’s files open between lines', async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'switchboard-append-'));
    const events = new LocalEventSink({ path: join(dir, 'events.jsonl') });
    const outbox = new OutboxSender({ path: join(dir, 'outbox.jsonl'), log: memoryLog() });
    const event = { id: 'evt_1', type: 'message.received', occurredAt: '2026-11-27T10:00:00.000Z' } as const;

    // Act
    for (let i = 0; i < 3; i++) {
      await events.publish([{ ...event, id: `evt_${i}`, conversationId: 'conv_1', data: {} }]);
      await outbox.send({
        provider: 'twilio',
        channel: 'sms',
        from: '+48221234567',
        to: '+48600000001',
        text: 'Dzień dobry',
        idempotencyKey: `ack-${i}`,
      });
    }

    // Assess
    expect(await openDescriptors(join(dir, 'events.jsonl'))).toBe(1);
    expect(await openDescriptors(join(dir, 'outbox.jsonl'))).toBe(1);
    expect((await readFile(join(dir, 'outbox.jsonl'), 'utf8')).trimEnd().split('\n')).toHaveLength(3);
  });
});
