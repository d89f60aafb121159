import type { FormEvent, KeyboardEvent } from 'react'
import { useEffect, useId, useLayoutEffect, useRef, useState } from 'react'
import type { User } from '../../../shared/api.ts'
import type { ChatMessage } from '../../../shared/chat-document.ts'
import { MAX_MESSAGE_BYTES, mentionedNames, utf8Length } from '../../../shared/chat-document.ts'
import type { ConversationId, UserId } from '../../../shared/ids.ts'
import type { MemberDirectory } from '../messages/member-directory.ts'
import { findMentionQuery, insertMention, suggestMembers } from '../messages/mention-query.ts'
import { mentionedMemberIds } from '../messages/mention-text.ts'
import { useTypingPublisher } from '../presence/presence-context.tsx'
import type { ConversationSession } from '../sync/conversation-session.ts'
import {
  useDraftWriter,
  useUserDocument,
  useUserDocumentSnapshot,
} from '../user-doc/user-document-context.tsx'
import { MentionMenu } from './MentionMenu.tsx'
import { ReplyPreview } from './ReplyPreview.tsx'

// The byte counter shows from this share of MAX_MESSAGE_BYTES on.
const COUNTER_FROM = 0.8

/**
 * Renders the message field, where Enter sends and Shift+Enter adds a line. Typing `@` lists
 * the members to mention. A reply target shows above the field until sent or cancelled.
 */
export function Composer(props: {
  session: ConversationSession
  conversationId: ConversationId
  members: MemberDirectory
  viewerId: UserId
  disabled: boolean
  replyTarget: ChatMessage | undefined
  onCancelReply: () => void
}) {
  const { session, conversationId, members, viewerId, disabled, replyTarget, onCancelReply } = props
  const [text, setText] = useState('')
  const typing = useTypingPublisher(session)
  const drafts = useDraftWriter(conversationId)
  const userDocument = useUserDocument()
  const { loaded } = useUserDocumentSnapshot()
  const restored = useRef(false)
  const [caret, setCaret] = useState(0)
  const [selected, setSelected] = useState(0)
  const [menuClosed, setMenuClosed] = useState(false)
  const field = useRef<HTMLTextAreaElement>(null)
  // Caret to place once a picked mention has rendered. A layout effect places it before the
  // next key is handled; a later frame could move the caret back over text typed meanwhile.
  const pendingCaret = useRef<number | null>(null)
  const menuId = useId()

  const bytes = utf8Length(text)
  const tooLarge = bytes > MAX_MESSAGE_BYTES
  const canSend = !disabled && !tooLarge && text.trim().length > 0
  const mention = findMentionQuery(text, caret)
  const options = mention ? suggestMembers(members.members, mention.query, viewerId) : []
  const menuOpen = !disabled && !menuClosed && options.length > 0
  const selectedIndex = Math.min(selected, options.length - 1)

  useLayoutEffect(() => {
    if (pendingCaret.current === null) return
    field.current?.setSelectionRange(pendingCaret.current, pendingCaret.current)
    pendingCaret.current = null
  })

  useEffect(() => {
    if (replyTarget) field.current?.focus()
  }, [replyTarget])

  // The draft of this conversation comes back once the user document has loaded.
  useEffect(() => {
    if (!loaded || restored.current) return
    restored.current = true
    const draft = userDocument.getDraft(conversationId)
    if (draft) setText((current) => current || draft)
  }, [loaded, userDocument, conversationId])

  function edit(value: string) {
    setText(value)
    drafts.update(value)
    if (value.trim().length > 0) typing.noteKeystroke()
    else typing.stop()
  }

  function send() {
    if (!canSend) return
    const mentions = mentionedMemberIds(mentionedNames(text), members)
    const result = session.send({ text, replyTo: replyTarget?.id, mentions })
    if (result.ok) {
      setText('')
      setCaret(0)
      typing.stop()
      drafts.flush('')
      onCancelReply()
    }
    field.current?.focus()
  }

  function pick(user: User) {
    if (!mention) return
    const next = insertMention(text, mention, user.username)
    edit(next.text)
    setCaret(next.caret)
    setSelected(0)
    pendingCaret.current = next.caret
  }

  function handleMenuKey(event: KeyboardEvent<HTMLTextAreaElement>): boolean {
    const picked = options[selectedIndex]
    switch (event.key) {
      case 'ArrowDown':
        setSelected((selectedIndex + 1) % options.length)
        return true
      case 'ArrowUp':
        setSelected((selectedIndex - 1 + options.length) % options.length)
        return true
      case 'Enter':
      case 'Tab':
        if (picked) pick(picked)
        return true
      case 'Escape':
        setMenuClosed(true)
        return true
      default:
        return false
    }
  }

  function handleKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    // While an input method composes text, Enter confirms the composition instead.
    if (event.nativeEvent.isComposing) return
    if (menuOpen && !event.shiftKey && handleMenuKey(event)) {
      event.preventDefault()
      return
    }
    if (event.key === 'Escape' && replyTarget) {
      event.preventDefault()
      onCancelReply()
      return
    }
    if (event.key !== 'Enter' || event.shiftKey) return
    event.preventDefault()
    send()
  }

  function handleSubmit(event: FormEvent) {
    event.preventDefault()
    send()
  }

  function trackCaret() {
    const position = field.current?.selectionStart ?? 0
    if (position !== caret) {
      setCaret(position)
      setMenuClosed(false)
    }
  }

  return (
    <div className="composer-area">
      {replyTarget && (
        <ReplyPreview target={replyTarget} members={members} onCancel={onCancelReply} />
      )}
      <form className="composer" onSubmit={handleSubmit}>
        <div className="composer__field">
          {menuOpen && (
            <MentionMenu id={menuId} options={options} selected={selectedIndex} onPick={pick} />
          )}
          <textarea
            ref={field}
            className="composer__input"
            data-testid="composer"
            aria-label="Message"
            aria-autocomplete="list"
            aria-expanded={menuOpen}
            aria-controls={menuOpen ? menuId : undefined}
            aria-activedescendant={menuOpen ? `${menuId}-${selectedIndex}` : undefined}
            placeholder={disabled ? 'You cannot send messages here' : 'Write a message'}
            rows={1}
            value={text}
            disabled={disabled}
            onChange={(event) => {
              edit(event.target.value)
              setCaret(event.target.selectionStart)
              setSelected(0)
              setMenuClosed(false)
            }}
            onSelect={trackCaret}
            onKeyDown={handleKeyDown}
          />
          {bytes >= MAX_MESSAGE_BYTES * COUNTER_FROM && (
            <span
              className={`composer__counter${tooLarge ? ' composer__counter--over' : ''}`}
              aria-live="polite"
            >
              {bytes.toLocaleString()} / {MAX_MESSAGE_BYTES.toLocaleString()} bytes
              {tooLarge && ' — too long to send'}
            </span>
          )}
        </div>
        <button
          type="submit"
          className="button button--primary composer__send"
          data-testid="send"
          disabled={!canSend}
        >
          Send
        </button>
      </form>
    </div>
  )
}
