import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalEventSink } from '#lib/adapters/local-event-sink.ts';
import type { DomainEvent } from '#lib/domain/events.ts';

const event = (n: number): DomainEvent => ({
  id: `evt_${n}`,
  type: 'message.received',
  occurredAt: '2026-11-25T10:00:00.000Z',
  conversationId: `conv_${n % 7}`,
  data: { n },
});

describe('LocalEventSink', () => {
  let dir: string;
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('should append every concurrent publish whole, each in its call order, and resolve each once written', async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'switchboard-sink-'));
    const path = join(dir, 'events.jsonl');
    const sink = new LocalEventSink({ path });

    // Act: 200 publishes of one or two events at once
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        sink.publish(i % 2 ? [event(2 * i), event(2 * i + 1)] : [event(2 * i)]),
      ),
    );

    // Assess
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    const ids = lines.map((line) => (JSON.parse(line) as DomainEvent).id);
    const expected = Array.from({ length: 200 }, (_, i) =>
      i % 2 ? [`evt_${2 * i}`, `evt_${2 * i + 1}`] : [`evt_${2 * i}`],
    ).flat();
    expect(ids).toEqual(expected);
  });

  it('should fail every publish of a group whose append failed, and write the next group again', async () => {
    // Prepare: a folder that does not exist yet
    dir = await mkdtemp(join(tmpdir(), 'switchboard-sink-'));
    const sink = new LocalEventSink({ path: join(dir, 'missing', 'events.jsonl') });

    // Act
    const results = await Promise.allSettled([sink.publish([event(1)]), sink.publish([event(2)])]);

    // Assess
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    await expect(sink.publish([])).resolves.toBeUndefined();
  });
});
