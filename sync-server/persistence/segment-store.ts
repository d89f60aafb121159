import type { Kysely } from 'kysely'
import type { Database } from './schema.ts'

/**
 * The open history segment of each conversation, in the conversations table that every
 * instance shares. The number only grows, so a conditional update decides between instances
 * that try to close the same segment.
 */
export class SegmentStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Returns the number of the segment that takes new messages, or 0 for an unknown conversation. */
  async openSegment(conversationId: string): Promise<number> {
    const row = await this.db
      .selectFrom('conversations')
      .select('open_segment')
      .where('id', '=', conversationId)
      .executeTakeFirst()
    return row?.open_segment ?? 0
  }

  /**
   * Closes a segment and opens the next one, unless the segment is no longer open. Returns
   * whether this call closed it, so that exactly one instance announces each new segment.
   */
  async closeSegment(conversationId: string, segment: number): Promise<boolean> {
    const row = await this.db
      .updateTable('conversations')
      .set({ open_segment: segment + 1 })
      .where('id', '=', conversationId)
      .where('open_segment', '=', segment)
      .where('deleted_at', 'is', null)
      .returning('open_segment')
      .executeTakeFirst()
    return row !== undefined
  }
}
