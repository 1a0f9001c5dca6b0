import { describe, expect, it } from 'vitest';
import { phoneContactKey } from '#lib/domain/contact.ts';

describe('phoneContactKey', () => {
  it.each([
    ['+48601234567', 'phone:+48601234567'],
    ['whatsapp:+48601234567', 'phone:+48601234567'],
    [' +48 601 234 567 ', 'phone:+48601234567'],
    ['+14155550123', 'phone:+14155550123'],
  ])('should key %s as %s so that phone channels merge', (address, key) => {
    expect(phoneContactKey(address)).toBe(key);
  });

  it.each([
    ['12345', 'phone:12345'],
    ['MyShop', 'phone:MyShop'],
  ])('should keep %s raw when it is not a valid number', (address, key) => {
    expect(phoneContactKey(address)).toBe(key);
  });
});
