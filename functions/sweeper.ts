import { loadLambdaRuntime } from '#lib/runtime/lambda.ts';
import { createMailStore } from '#lib/runtime/mail.ts';
import { sweep } from '#lib/use-cases/sweep.ts';

// The S3 mail store: the sweeper records stored mail whose SNS notification never arrived.
const runtime = await loadLambdaRuntime('switchboard-sweeper', {
  mail: (config) => ({ mailStore: createMailStore(config) }),
});

/** Every minute: finishes what a crash or an outage left half done. */
export const handler = async () => sweep(runtime.sweepDeps);
