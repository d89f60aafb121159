import type { RefObject } from 'react'
import { useEffect, useRef } from 'react'
import { COMMON_EMOJI } from '../messages/common-emoji.ts'

/**
 * Renders a grid of common emoji. Picking one, Escape or a press outside closes it. It opens
 * upward or downward, whichever the caller found room for.
 */
export function EmojiPicker(props: {
  direction: 'up' | 'down'
  /** The button that opens the picker, whose own click toggles it. */
  opener: RefObject<HTMLElement | null>
  onPick: (emoji: string) => void
  /** Called with true when Escape closed the picker, so that focus goes back to the opener. */
  onClose: (byKeyboard: boolean) => void
}) {
  const { direction, opener, onPick, onClose } = props
  const panel = useRef<HTMLDivElement>(null)

  useEffect(() => {
    panel.current?.querySelector('button')?.focus()
    const handlePointer = (event: PointerEvent) => {
      const target = event.target as Node
      if (panel.current?.contains(target) || opener.current?.contains(target)) return
      onClose(false)
    }
    // Capture, so that a press on another message's control still closes this picker first.
    document.addEventListener('pointerdown', handlePointer, true)
    return () => document.removeEventListener('pointerdown', handlePointer, true)
  }, [opener, onClose])

  return (
    <div
      ref={panel}
      className={`emoji-picker emoji-picker--${direction}`}
      role="group"
      aria-label="Pick a reaction"
      onKeyDown={(event) => {
        if (event.key !== 'Escape') return
        event.stopPropagation()
        onClose(true)
      }}
    >
      {COMMON_EMOJI.map((emoji) => (
        <button
          key={emoji}
          type="button"
          className="emoji-picker__option"
          data-testid="emoji-option"
          aria-label={`React with ${emoji}`}
          onClick={() => onPick(emoji)}
        >
          {emoji}
        </button>
      ))}
    </div>
  )
}
