import { useEffect, useRef, useState } from 'react'

/**
 * Renders the "⋯" button of a list item and its menu with the mute and pin toggles. Escape,
 * a click outside and picking an entry close it.
 */
export function ConversationMenu(props: {
  title: string
  muted: boolean
  pinned: boolean
  onToggleMute: () => void
  onTogglePin: () => void
}) {
  const { title, muted, pinned, onToggleMute, onTogglePin } = props
  const [open, setOpen] = useState(false)
  const root = useRef<HTMLDivElement>(null)

  useEffect(() => {
    if (!open) return
    const handlePointer = (event: PointerEvent) => {
      if (!root.current?.contains(event.target as Node)) setOpen(false)
    }
    const handleKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') setOpen(false)
    }
    document.addEventListener('pointerdown', handlePointer)
    document.addEventListener('keydown', handleKey)
    return () => {
      document.removeEventListener('pointerdown', handlePointer)
      document.removeEventListener('keydown', handleKey)
    }
  }, [open])

  function pick(action: () => void) {
    action()
    setOpen(false)
  }

  return (
    <div className="item-menu" ref={root}>
      <button
        type="button"
        className="icon-button item-menu__button"
        data-testid="conversation-menu"
        aria-label={`Options for ${title}`}
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        ⋯
      </button>
      {open && (
        <div className="item-menu__list" role="menu">
          <button
            type="button"
            role="menuitem"
            className="item-menu__entry"
            data-testid="toggle-pin"
            onClick={() => pick(onTogglePin)}
          >
            {pinned ? 'Unpin' : 'Pin to top'}
          </button>
          <button
            type="button"
            role="menuitem"
            className="item-menu__entry"
            data-testid="toggle-mute"
            onClick={() => pick(onToggleMute)}
          >
            {muted ? 'Unmute' : 'Mute'}
          </button>
        </div>
      )}
    </div>
  )
}
