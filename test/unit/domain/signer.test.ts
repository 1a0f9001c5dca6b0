import { describe, expect, it } from 'vitest';
import {
  type BusinessConfig,
  DEFAULT_BUSINESS_CONFIG,
  parseBusinessConfig,
} from '#lib/domain/business-config.ts';
import type { ReplyPromise } from '#lib/domain/promise.ts';
import { atWorkFrom, replySigner, signedNow } from '#lib/domain/signer.ts';

const ANNA = { id: 'anna', name: 'Anna Kowalska', phone: '22 123 45 67', email: 'anna.kowalska@example.com' };
const PIOTR = { id: 'piotr', name: 'Piotr Nowak', email: 'piotr.nowak@example.com' };
const ZOFIA = { id: 'zofia', name: 'Zofia Zielińska', phone: '22 555 55 55' };
const CONFIG: BusinessConfig = parseBusinessConfig({
  ...DEFAULT_BUSINESS_CONFIG,
  people: {
    default: 'anna',
    rota: [ANNA, { ...PIOTR, hours: { mon: ['09:00-12:00'] } }],
    agents: [ZOFIA],
  },
});

function promisedBy(signer: ReplyPromise['signer']): ReplyPromise {
  return {
    replyBy: '2026-12-01T10:00:00.000+01:00',
    targetHours: 12,
    capped: false,
    teamAwayUntil: null,
    signer,
  };
}

// Agents' replies were sent unsigned by a key without an agent name, and never with a direct
// contact. Found by a review of the customer-facing texts at stop 23.
describe('replySigner', () => {
  it('should sign as the rota person the agent name names, with their direct contact, whatever the case and spacing', () => {
    // Act
    const byName = replySigner(CONFIG, { agentName: '  piotr  NOWAK ', promise: promisedBy(ANNA) });
    const byId = replySigner(CONFIG, { agentName: 'anna', promise: null });

    // Assess
    expect(byName).toEqual({ name: 'Piotr Nowak', email: 'piotr.nowak@example.com' });
    expect(byId).toEqual({
      name: 'Anna Kowalska',
      phone: '22 123 45 67',
      email: 'anna.kowalska@example.com',
    });
  });

  // Found at stop 25: an agent not on the rota signed with the name alone, no way to reach them.
  it('should sign as a listed agent who is not on the rota with their direct contact, and as nobody for a name not listed', () => {
    // Act
    const listed = replySigner(CONFIG, { agentName: 'zofia  zielińska', promise: promisedBy(ANNA) });
    const unlisted = replySigner(CONFIG, { agentName: 'Ola Nowak', promise: promisedBy(ANNA) });

    // Assess: a reply is never signed without a direct contact; the caller refuses it instead
    expect(listed).toEqual({ name: 'Zofia Zielińska', phone: '22 555 55 55' });
    expect(unlisted).toBeNull();
  });

  it('should sign a key without an agent name as the person the promise named, from their current rota entry', () => {
    // Prepare: the promise was stored before Piotr's number changed
    const promise = promisedBy({ ...PIOTR, phone: '22 000 00 00' });

    // Act
    const signer = replySigner(CONFIG, { agentName: null, promise });

    // Assess
    expect(signer).toEqual({ name: 'Piotr Nowak', email: 'piotr.nowak@example.com' });
  });

  // Changed at stop 25 (a review of configuration edits): the promised person's stored copy was
  // kept after they left, so the reply gave a direct line that reaches nobody now.
  it('should sign as the default person when the promised one is no longer listed, and without a promise', () => {
    // Act
    const left = replySigner(CONFIG, {
      agentName: null,
      promise: promisedBy({ id: 'ola', name: 'Ola Nowak', phone: '22 111 11 11' }),
    });
    const unpromised = replySigner(CONFIG, { agentName: null, promise: null });

    // Assess
    expect(left).toEqual({
      name: 'Anna Kowalska',
      phone: '22 123 45 67',
      email: 'anna.kowalska@example.com',
    });
    expect(unpromised).toEqual({
      name: 'Anna Kowalska',
      phone: '22 123 45 67',
      email: 'anna.kowalska@example.com',
    });
  });

  // Found at stop 25: the promise's signer was looked up by name as well as id, so a newcomer
  // listed by the first name that spells the id of someone who left signed in their place.
  it('should look the promised person up by id only, never as someone whose name spells that id', () => {
    // Prepare: Ewa Nowak (id "ewa") made the promise and has left; another Ewa is listed as "Ewa"
    const config = parseBusinessConfig({
      ...DEFAULT_BUSINESS_CONFIG,
      people: { ...CONFIG.people, agents: [ZOFIA, { id: 'ewa-k', name: 'Ewa', email: 'ewa.k@example.com' }] },
    });
    const promise = promisedBy({ id: 'ewa', name: 'Ewa Nowak', phone: '22 111 11 11' });

    // Act
    const signer = replySigner(config, { agentName: null, promise });

    // Assess: the default person, as for anyone no longer listed
    expect(signer).toEqual({
      name: 'Anna Kowalska',
      phone: '22 123 45 67',
      email: 'anna.kowalska@example.com',
    });
  });

  // Found at stop 25 ("left alone"): a key signed by the name it stored, so a rename refused it.
  it('should sign a key by the id it stored, whatever name it was made with, and as nobody once that id is gone', () => {
    // Act
    const renamed = replySigner(CONFIG, { agentName: 'Piotr Kowalski', agentId: 'piotr', promise: null });
    const gone = replySigner(CONFIG, { agentName: 'Piotr Nowak', agentId: 'pnowak', promise: null });

    // Assess: the id decides; the stored name does not stand in for it
    expect(renamed).toEqual({ name: 'Piotr Nowak', email: 'piotr.nowak@example.com' });
    expect(gone).toBeNull();
  });
});

describe('signedNow', () => {
  it('should keep a promise whose person is listed as stored, and re-sign one whose person changed or left', () => {
    // Prepare
    const kept = promisedBy(ANNA);
    const moved = promisedBy({ ...PIOTR, email: 'old@example.com' });
    const left = promisedBy({ id: 'ola', name: 'Ola Nowak', phone: '22 111 11 11' });

    // Act + Assess: the same object when nothing changed; never duty hours on a promise
    expect(signedNow(CONFIG, kept)).toBe(kept);
    expect(signedNow(CONFIG, moved)).toEqual({ ...moved, signer: PIOTR });
    expect(signedNow(CONFIG, left)).toEqual({ ...left, signer: ANNA });
  });
});

// The agent's day: a late notice at 16:59 said "call me" a minute before the signer left. From
// when "call me" reaches them: now only with half an hour of their shift left.
describe('atWorkFrom', () => {
  const at = (iso: string) => new Date(iso);
  const NIGHT: BusinessConfig = parseBusinessConfig({
    ...DEFAULT_BUSINESS_CONFIG,
    hours: { ...DEFAULT_BUSINESS_CONFIG.hours, mon: ['09:00-17:00', '22:00-24:00'], tue: ['00:00-17:00'] },
    people: {
      default: 'anna',
      rota: [{ ...ANNA, hours: { mon: ['22:00-24:00'], tue: ['00:00-06:00'] } }],
      agents: [],
    },
  });

  it.each([
    ['with half an hour of the shift left', '2026-11-30T16:30:00+01:00', '2026-11-30T16:30:00+01:00'],
    ['with less than half an hour left', '2026-11-30T16:31:00+01:00', '2026-12-01T09:00:00+01:00'],
    ['at the closing instant', '2026-11-30T17:00:00+01:00', '2026-12-01T09:00:00+01:00'],
    ['before the shift', '2026-11-30T08:00:00+01:00', '2026-11-30T09:00:00+01:00'],
  ])('should be reachable %s from the time given', (_case, now, from) => {
    // Act
    const reachable = atWorkFrom(DEFAULT_BUSINESS_CONFIG, 'anna', at(now));

    // Assess
    expect(reachable.getTime()).toBe(at(from).getTime());
  });

  it('should count a night shift through midnight as one shift', () => {
    // Act: 23:45 on Monday, Anna works until 6:00 on Tuesday; at 5:45 she does not
    const night = atWorkFrom(NIGHT, 'anna', at('2026-11-30T23:45:00+01:00'));
    const dawn = atWorkFrom(NIGHT, 'anna', at('2026-12-01T05:45:00+01:00'));

    // Assess
    expect(night.toISOString()).toBe(at('2026-11-30T23:45:00+01:00').toISOString());
    expect(dawn.toISOString()).toBe(at('2026-12-07T22:00:00+01:00').toISOString());
  });
});
