import { z } from 'zod';

/** One acknowledgement to send: which conversation and which of its waiting episodes. */
export const AckJobSchema = z.object({
  conversationId: z.string().min(1),
  episode: z.number().int().positive(),
});
export type AckJob = z.infer<typeof AckJobSchema>;

/** The queue between recording a message and sending its acknowledgement. */
export interface AckQueue {
  enqueue(job: AckJob): Promise<void>;
}
