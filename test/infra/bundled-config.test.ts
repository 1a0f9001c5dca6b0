import { DateTime } from 'luxon';
import { afterEach, describe, expect, it, vi } from 'vitest';
import businessJson from '../../switchboard.config.json' with { type: 'json' };

// `cdk synth` and `npm run build` refuse the switchboard.config.json a cold start would refuse,
// so `cdk deploy` stops before shipping it. Found at stop 25: only a stale holiday table was
// refused; a config that could make no promise shipped, and every cold start now stops on it.
describe('the business config bundled into the functions', () => {
  afterEach(() => {
    vi.doUnmock('../../switchboard.config.json');
    vi.resetModules();
  });

  it('should stop the synth when the bundled config can make no promise', async () => {
    // Prepare: two closures of 366 days each, one day apart: no working time within the horizon
    const today = DateTime.now().setZone('Europe/Warsaw').startOf('day');
    const day = (n: number) => today.plus({ days: n }).toISODate() as string;
    const edited = {
      ...businessJson,
      closures: [
        { from: day(0), to: day(365), reason: 'remont' },
        { from: day(367), to: day(732), reason: 'remont, etap 2' },
      ],
    };
    vi.doMock('../../switchboard.config.json', () => ({ default: edited }));
    const { assertBundledBusinessConfig } = await import('../../infra/bundling.ts');

    // Act + Assess: what SwitchboardFunction (and esbuildOptions) run before bundling
    expect(() => assertBundledBusinessConfig()).toThrow(/no promise can be made for a message received now/);
  });

  it('should pass the config in the repository', async () => {
    // Prepare
    const { assertBundledBusinessConfig } = await import('../../infra/bundling.ts');

    // Act + Assess
    expect(() => assertBundledBusinessConfig()).not.toThrow();
  });
});
