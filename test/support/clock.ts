import type { Clock } from '#lib/ports/clock.ts';

/** A clock tests set and move by hand. */
export class TestClock implements Clock {
  #now: number;
  constructor(start: string | Date) {
    this.#now = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.#now);
  }
  set(at: string | Date): void {
    this.#now = new Date(at).getTime();
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}
