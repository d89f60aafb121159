/** A message on its way to its receivers. */
interface OpenMessage {
  writer: number
  sentAt: number
  remaining: number
}

/**
 * Follows each message from its send to its last receiver. Message texts are unique keys
 * such as `bench 2:17` (writer 2, message 17), so every receiver reports the text it saw.
 */
export class DeliveryTracker {
  deliveries = 0
  completed = 0
  /** Messages received that were never sent in this window, such as late ones of an earlier one. */
  strays = 0
  /** Milliseconds from the send to the arrival at the last receiver, one per message. */
  readonly lastReceiverMs: number[] = []
  onComplete: ((writer: number) => void) | undefined
  private readonly open = new Map<string, OpenMessage>()

  constructor(private readonly receiversPerMessage: number) {}

  get pending(): number {
    return this.open.size
  }

  sent(text: string, writer: number): void {
    this.open.set(text, { writer, sentAt: performance.now(), remaining: this.receiversPerMessage })
  }

  received(text: string): void {
    const message = this.open.get(text)
    if (!message) {
      this.strays++
      return
    }
    this.deliveries++
    message.remaining--
    if (message.remaining > 0) return
    this.open.delete(text)
    this.completed++
    this.lastReceiverMs.push(performance.now() - message.sentAt)
    this.onComplete?.(message.writer)
  }
}

/** Times from each write to its acknowledgement; the server acknowledges in order. */
export class AckTracker {
  readonly ackMs: number[] = []
  private readonly sentAt: number[] = []

  sent(): void {
    this.sentAt.push(performance.now())
  }

  acknowledged(): void {
    const sentAt = this.sentAt.shift()
    if (sentAt !== undefined) this.ackMs.push(performance.now() - sentAt)
  }

  get outstanding(): number {
    return this.sentAt.length
  }
}
