// The bounds of Meta's ids, shared by the Messenger/Instagram and the WhatsApp Cloud schemas.
import { z } from 'zod';

// Meta's ids are numeric strings today; only bound them, so a new id format is not a lost message.
const id = z.string().min(1).max(128);
// Message ids (mid, wamid) are long base64-ish strings; InboundMessageSchema caps them at 256.
const messageId = z.string().min(1).max(256);

export { id, messageId };
