import { loadLambdaRuntime } from '#lib/runtime/lambda.ts';
import { sweep } from '#lib/use-cases/sweep.ts';

const runtime = await loadLambdaRuntime('switchboard-sweeper');

/** Every minute: finishes what a crash or an outage left half done. */
export const handler = async () => sweep(runtime.sweepDeps);
