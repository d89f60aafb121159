/** Milliseconds after the last keystroke at which "typing" is cleared. */
export const TYPING_IDLE_MS = 4_000

/** Where a TypingPublisher writes the typing flag; SessionPresence is one. */
export interface TypingTarget {
  setTyping(typing: boolean): void
}

/**
 * Sets this user's "typing" flag on a conversation from composer keystrokes. Call
 * noteKeystroke on each change that leaves text in the composer, and stop when the composer
 * is emptied, on send and on unmount. The flag clears by itself TYPING_IDLE_MS after the last
 * keystroke, and the awareness update goes out only when the flag changes.
 */
export class TypingPublisher {
  private typing = false
  private idleTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly target: TypingTarget,
    private readonly idleMs = TYPING_IDLE_MS,
  ) {}

  noteKeystroke(): void {
    clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(() => this.stop(), this.idleMs)
    if (this.typing) return
    this.typing = true
    this.target.setTyping(true)
  }

  stop(): void {
    clearTimeout(this.idleTimer)
    this.idleTimer = undefined
    if (!this.typing) return
    this.typing = false
    this.target.setTyping(false)
  }
}
