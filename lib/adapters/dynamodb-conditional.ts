import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/**
 * Awaits a conditional write: true when DynamoDB applied it, false when its condition did not
 * hold (someone else's write came first, or there was nothing to change). Any other error
 * throws. The one place the stores tell "lost the condition" from a failure.
 */
export async function applied(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
