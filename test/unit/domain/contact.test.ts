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

  // Found at stop 23: WhatsApp names some mobiles in a form older than the numbering plan's.
  it.each([
    ['+525512345678', 'phone:+525512345678'],
    ['whatsapp:+5215512345678', 'phone:+525512345678'],
    ['+52 1 55 1234 5678', 'phone:+525512345678'],
    ['+5511987654321', 'phone:+5511987654321'],
    ['+551187654321', 'phone:+5511987654321'],
    ['whatsapp:+552197654321', 'phone:+5521997654321'],
  ])('should key the mobile %s as %s, the form its SMS comes from', (address, key) => {
    expect(phoneContactKey(address)).toBe(key);
  });

  it.each([
    ['+551132654321', 'phone:+551132654321'],
    ['+5511932654321', 'phone:+5511932654321'],
    ['+525212345678', 'phone:+525212345678'],
  ])('should key the number %s as it is (a landline, or already in its mobile form)', (address, key) => {
    expect(phoneContactKey(address)).toBe(key);
  });

  it.each([
    ['12345', 'phone:12345'],
    ['MyShop', 'phone:MyShop'],
  ])('should keep %s raw when it is not a valid number', (address, key) => {
    expect(phoneContactKey(address)).toBe(key);
  });
});
