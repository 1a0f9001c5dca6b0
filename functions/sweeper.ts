import { loadLambdaRuntime } from '#lib/runtime/lambda.ts';
import { createMailStore } from '#lib/runtime/mail.ts';
import { sweep } from '#lib/use-cases/sweep.ts';

// The S3 mail store: the sweeper records stored mail whose SNS notification never arrived.
const runtime = await loadLambdaRuntime('switchboard-sweeper', {
  mail: (config) => ({ mailStore: createMailStore(config) }),
});

/**
 * Every minute: finishes what a crash or an outage left half done, and what came due. Pages of
 * due conversations for up to 40 s of its 60 s timeout, leaving the rest to the webhook retries
 * and the mail recheck; a larger backlog is the next minute's.
 */
export const handler = async () => sweep(runtime.sweepDeps, { budgetMs: 40_000 });
