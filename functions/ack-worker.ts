import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { loadLambdaRuntime } from '#lib/runtime/lambda.ts';
import { createSesEmailClient } from '#lib/runtime/ses-client.ts';
import { countEventRecords } from '#lib/runtime/stats-records.ts';
import { handleWorkRecord } from '#lib/runtime/work-records.ts';

const runtime = await loadLambdaRuntime('switchboard-ack-worker', {
  mail: (config) => {
    const emailClient = createSesEmailClient(config);
    return emailClient ? { emailClient } : {};
  },
});
const processor = new BatchProcessor(EventType.SQS);
// The stats queue (the bus's events, copied by a rule) is this function's second event source.
const statsQueueArn = process.env.STATS_QUEUE_ARN;

async function recordHandler(record: SQSRecord) {
  return handleWorkRecord(runtime.workDeps, {
    body: record.body,
    receiveCount: Number(record.attributes.ApproximateReceiveCount ?? '1'),
    messageId: record.messageId,
  });
}

/**
 * Sends acknowledgements from the ack queue (failed records go back, then to the DLQ), and
 * counts the service-level stats from the stats queue: a stats batch is counted as a whole,
 * and a failure returns all of it (the events already counted are recognised by their markers);
 * a record this release cannot read goes back alone, then to the stats DLQ.
 */
export const handler = async (event: SQSEvent, context: Context) => {
  if (statsQueueArn && event.Records[0]?.eventSourceARN === statsQueueArn) {
    const { tally, batchItemFailures } = await countEventRecords(runtime.statsDeps, event.Records);
    runtime.log.info('stats counted', tally);
    return { batchItemFailures };
  }
  return runtime.requestScope(() => processPartialResponse(event, recordHandler, processor, { context }));
};
