import { describe, expect, it } from 'vitest';
import { contactAddress, contactDisplayName } from '#lib/domain/contact-label.ts';

// The agent's day: the inbox listed "phone:+48601234567", the internal contact key, where an
// agent expects a person's name or at least a number written for people.
describe('contactDisplayName', () => {
  it.each([
    [
      'the profile name the provider gave',
      { key: 'phone:+48600100200', name: '  Marek Nowak ' },
      'Marek Nowak',
    ],
    ['a Polish mobile number, grouped', { key: 'phone:+48600100200' }, '+48 600 100 200'],
    ['a Polish landline, grouped', { key: 'phone:+48221234567' }, '+48 22 123 45 67'],
    ['a number of another country', { key: 'phone:+12025550123' }, '+1 202 555 0123'],
    ['a short code as given', { key: 'phone:8080' }, '8080'],
    ['an alphanumeric sender as given', { key: 'phone:ALLEGRO' }, 'ALLEGRO'],
    ['a number too short to be one, as given', { key: 'phone:+4860' }, '+4860'],
    ['an email address', { key: 'email:jan.kowalski@example.pl' }, 'jan.kowalski@example.pl'],
    ['a SIP address', { key: 'sip:biuro@pbx.example.pl' }, 'biuro@pbx.example.pl'],
    ['a Twilio Client identity', { key: 'client:kiosk-1' }, 'kiosk-1'],
    ['a blank name: the number', { key: 'phone:+48600100200', name: '   ' }, '+48 600 100 200'],
  ])('should show %s', (_case, contact, shown) => {
    // Act
    const name = contactDisplayName(contact);

    // Assess
    expect(name).toBe(shown);
  });

  it.each([
    ['messenger:6543210987654321'],
    ['instagram:17841400000000000'],
    ['whatsapp:PL.1234567890ABCDEF'],
    ['anonymous:CA0123456789abcdef0123456789abcdef'],
  ])('should give no name for %s, an id nobody reads (the page names the channel instead)', (key) => {
    // Act
    const name = contactDisplayName({ key });

    // Assess
    expect(name).toBeUndefined();
  });
});

describe('contactAddress', () => {
  it.each([
    ['phone:+48601234567', '+48 601 234 567'],
    ['email:ewa@example.pl', 'ewa@example.pl'],
    ['messenger:6543210987654321', undefined],
  ])('should write %s for people', (key, shown) => {
    // Act: whatever name the provider gave
    const address = contactAddress(key);

    // Assess
    expect(address).toBe(shown);
  });
});
