import WebSocket from 'ws'

/** Largest message a bench client accepts: a 1M-message history arrives as one update. */
const MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024

/**
 * The `ws` client with a larger message limit than its 100 MiB default. Every bench client
 * uses it, so that all servers are driven through the same WebSocket implementation.
 */
export class LargeWebSocket extends WebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols, { maxPayload: MAX_PAYLOAD_BYTES })
  }
}
