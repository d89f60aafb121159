import type { ConnectionState } from '../sync/connection-monitor.ts'

const LABELS: Record<ConnectionState, string> = {
  online: 'Online',
  connecting: 'Connecting…',
  offline: 'Offline',
}

/** Renders a small indicator of the sync connection, always visible in the top bar. */
export function ConnectionStatus({ state }: { state: ConnectionState }) {
  return (
    <div
      className={`connection connection--${state}`}
      data-testid="connection-state"
      data-state={state}
      role="status"
      aria-live="polite"
    >
      <span className="connection__dot" aria-hidden="true" />
      {LABELS[state]}
    </div>
  )
}

/** Explains what happens to messages while the app is offline. */
export function OfflineBanner({ state }: { state: ConnectionState }) {
  if (state !== 'offline') return null
  return (
    <p className="banner banner--offline">
      Offline — messages will be sent when the connection returns
    </p>
  )
}
