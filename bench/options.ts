// The bench's command line (--quick, --check, --enforce, --only) and the sizes of its runs.
import { parseArgs } from 'node:util';

export const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    check: { type: 'boolean' },
    enforce: { type: 'string' },
    only: { type: 'string' },
  },
});
const names = (list: string | undefined) => list?.split(',').map((name) => name.trim().replace(' ', '-'));
// `--only front,bundles` measures a subset (while working on one figure); --check judges what ran;
// `--enforce npm-start,acks` judges only those figures (CI's guard on the budgets that hold).
export const only = names(flags.only);
export const enforced = names(flags.enforce);
export const quick = flags.quick ?? false;
export const SIZES = quick
  ? {
      runs: 1,
      httpSeconds: 2,
      warmSeconds: 1,
      ingest: 300,
      acks: 200,
      imports: 5,
      latency: 60,
      webhooks: 1_000,
    }
  : {
      runs: 3,
      httpSeconds: 5,
      warmSeconds: 2,
      ingest: 1_500,
      acks: 600,
      imports: 5,
      latency: 300,
      webhooks: 10_000,
    };
export const CONNECTIONS = 10;
