import { describe, expect, it } from 'vitest';
import { newId, stableId } from '#lib/domain/ids.ts';

describe('ids', () => {
  it('should make time-ordered ids of a fixed shape', () => {
    // Act
    const earlier = newId('conv', new Date('2026-11-25T10:00:00.000Z'));
    const later = newId('conv', new Date('2026-11-25T10:00:00.001Z'));

    // Assess
    expect(earlier).toMatch(/^conv_[0-9a-z]{26}$/);
    expect(earlier < later).toBe(true);
  });

  it('should derive the same id from the same natural key, and another from another', () => {
    // Act + Assess
    expect(stableId('msg', 'twilio:SM1')).toBe(stableId('msg', 'twilio:SM1'));
    expect(stableId('msg', 'twilio:SM1')).not.toBe(stableId('msg', 'twilio:SM2'));
    expect(stableId('msg', 'twilio:SM1')).toMatch(/^msg_[0-9a-z]{26}$/);
  });

  it('should keep every stable id as stored items already carry it (UTF-8 keys too)', () => {
    // Act
    const ids = [
      stableId('msg', 'twilio:SM1'),
      stableId('ack', 'conv_06h1hwnvsrxch9prmw7wrbbn9r:3'),
      stableId('evt', 'email:zażółć@przykład.pl'),
    ];

    // Assess: computed by the createHash version; another id would duplicate a stored item
    expect(ids).toEqual([
      'msg_dznb5gn5katbcb5kzh6zqf731k',
      'ack_y6550cewcd2azer40792zdq2jv',
      'evt_r32vz4ns926g06ex2cstre12zx',
    ]);
  });
});
