import { describe, expect, it } from 'vitest';
import { shardKey, shardOf, shardPartitions } from '#lib/adapters/dynamodb-shards.ts';

describe('shard keys', () => {
  it('should keep the unsharded name for shard 0 and number the others', () => {
    expect(shardPartitions('SWEEP', 4)).toEqual(['SWEEP', 'SWEEP#1', 'SWEEP#2', 'SWEEP#3']);
    expect(shardPartitions('SWEEP', 1)).toEqual(['SWEEP']);
  });

  it('should put an id in the same shard in every process and version (FNV-1a, pinned)', () => {
    // Pinned: changing the hash would move every entry to another partition unseen by readers.
    expect(shardOf('', 1_000_003)).toBe(0x811c9dc5 % 1_000_003);
    expect(shardOf('a', 2 ** 31)).toBe(0xe40c292c % 2 ** 31);
    expect(shardOf('conv_06h13wmm00e8f6edp62jmf0yt0', 8)).toBe(shardOf('conv_06h13wmm00e8f6edp62jmf0yt0', 8));
    expect(shardKey('CONVS#open', 'conv_x', 1)).toBe('CONVS#open');
  });

  it('should keep an entry readable as the count grows: its shard under n is one of the shards under any larger count', () => {
    for (let i = 0; i < 2_000; i++) {
      const id = `conv_${i.toString(36)}`;
      for (const [from, to] of [
        [1, 8],
        [4, 8],
        [8, 16],
        [8, 12],
      ] as const) {
        expect(shardOf(id, from)).toBeLessThan(to);
      }
    }
  });
});
