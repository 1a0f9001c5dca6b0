import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { handleAckRecord } from '#lib/runtime/ack-records.ts';
import { loadLambdaRuntime } from '#lib/runtime/lambda.ts';
import { createSesEmailClient } from '#lib/runtime/ses-client.ts';

const runtime = await loadLambdaRuntime('switchboard-ack-worker', {
  requireQueue: false,
  mail: (config) => {
    const emailClient = createSesEmailClient(config);
    return emailClient ? { emailClient } : {};
  },
});
const processor = new BatchProcessor(EventType.SQS);

async function recordHandler(record: SQSRecord) {
  return handleAckRecord(runtime.sendAckDeps, {
    body: record.body,
    receiveCount: Number(record.attributes.ApproximateReceiveCount ?? '1'),
    messageId: record.messageId,
  });
}

/** Sends acknowledgements from the ack queue; failed records go back (then to the DLQ). */
export const handler = (event: SQSEvent, context: Context) =>
  processPartialResponse(event, recordHandler, processor, { context });
