import { loadLambdaRuntime } from '#lib/runtime/lambda.ts';
import { createMailStore } from '#lib/runtime/mail.ts';
import { sweep } from '#lib/use-cases/sweep.ts';

// The S3 mail store: the sweeper records stored mail whose SNS notification never arrived.
const runtime = await loadLambdaRuntime('switchboard-sweeper', {
  mail: (config) => ({ mailStore: createMailStore(config) }),
});

/**
 * Every minute: finishes what a crash or an outage left half done, and what came due. Of its
 * 60 s timeout, due conversations get up to 35 s and due webhook deliveries up to 15 s (no
 * page or delivery is started after that), the mail recheck the rest; a larger backlog is the
 * next minute's. Each run also counts the configuration problems that stand (a refused
 * bootstrap token, a channel switched off), which keeps their alarms in alarm until fixed.
 */
export const handler = async () => {
  runtime.reportConfigProblems();
  return runtime.requestScope(() => sweep(runtime.sweepDeps, { budgetMs: 35_000, webhookBudgetMs: 15_000 }));
};
