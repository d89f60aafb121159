import type { SystemEvent } from '../../../shared/chat-document.ts'
import type { MemberDirectory } from '../messages/member-directory.ts'
import { describeSystemEvent } from '../messages/system-event-text.ts'
import { formatFullTime } from '../ui/format-time.ts'

/** Renders a server-written event, such as a member joining, as a muted line. */
export function SystemEventRow(props: { event: SystemEvent; members: MemberDirectory }) {
  const { event, members } = props
  return (
    <li
      className="system-event"
      data-testid="system-event"
      data-event-type={event.type}
      title={formatFullTime(event.at)}
    >
      {describeSystemEvent(event, members.knownNameOf)}
    </li>
  )
}
