import { z } from 'zod';
import { ChannelSchema } from './channel.ts';

export const MediaSchema = z.object({
  url: z.string(),
  contentType: z.string(),
  name: z.string().optional(),
  size: z.number().int().nonnegative().optional(),
});
export type Media = z.infer<typeof MediaSchema>;

export const MessageKindSchema = z.enum(['message', 'ack', 'reply', 'voicemail', 'call', 'notice']);
export type MessageKind = z.infer<typeof MessageKindSchema>;

export const DirectionSchema = z.enum(['inbound', 'outbound']);
export type Direction = z.infer<typeof DirectionSchema>;

/** Provider-reported delivery state of an outbound message (status callbacks, receipts). */
export const DeliverySchema = z.object({
  status: z.string(),
  errorCode: z.string().optional(),
  updatedAt: z.string(),
});

/**
 * A stored message, inbound or outbound. The first twelve fields are the public contract
 * (GET /api/conversations/:id); the rest are kept for the store and later issues.
 */
export const MessageSchema = z.object({
  id: z.string(),
  conversationId: z.string(),
  direction: DirectionSchema,
  kind: MessageKindSchema,
  channel: ChannelSchema,
  provider: z.string(),
  providerMessageId: z.string().nullable(),
  from: z.string(),
  to: z.string(),
  text: z.string(),
  media: z.array(MediaSchema),
  createdAt: z.string(),
  contactKey: z.string(),
  delivery: DeliverySchema.optional(),
});
export type Message = z.infer<typeof MessageSchema>;

/**
 * What a channel's normalizer produces for one customer message: everything the use case
 * needs, nothing provider-specific. `noAckReason` lets a channel say "record it, never answer
 * it" (auto-replies, bulk mail) without the use case knowing provider headers.
 */
export const InboundMessageSchema = z.object({
  provider: z.string().min(1),
  providerMessageId: z.string().min(1).max(256),
  channel: ChannelSchema,
  kind: z.enum(['message', 'call', 'voicemail']),
  contactKey: z.string().min(3).max(320),
  contactName: z.string().max(200).optional(),
  from: z.string().max(320),
  to: z.string().max(320),
  text: z.string(),
  media: z.array(MediaSchema),
  noAckReason: z.string().optional(),
});
export type InboundMessage = z.infer<typeof InboundMessageSchema>;

/** Everything a provider webhook can tell us, after normalization. */
export type InboundEvent = { type: 'message'; message: InboundMessage } | { type: 'ignored'; reason: string };
