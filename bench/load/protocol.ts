/** Messages between the suite and its load generator process, sent over the IPC channel. */

/** Protocol that a client speaks to its server. */
export type ClientKind = 'raw' | 'y-websocket' | 'hocuspocus'

/** One client of the load generator. */
export interface ClientSpec {
  kind: ClientKind
  /** WebSocket URL of the server; y-websocket appends the room, raw clients use it as is. */
  url: string
  /** Room or document name. */
  room: string
  /** Parley bearer token; absent for servers without authentication. */
  token?: string
  /** Author id written into the client's messages; Parley checks it against the token's user. */
  authorId: string
}

/** A request to the load generator; every request gets one LoadReply. */
export type LoadCommand =
  | {
      type: 'connect'
      clients: ClientSpec[]
      /** The first `writers` clients write; every client receives. */
      writers: number
      /** Connections opened at the same time. */
      concurrency: number
      timeoutMs: number
    }
  | { type: 'fanout'; messagesPerWriter: number; inflightPerWriter: number; timeoutMs: number }
  | { type: 'rate'; messagesPerSecond: number; durationMs: number; timeoutMs: number }
  | { type: 'reconnect'; timeoutMs: number }
  | {
      /** Opens a Parley conversation like the app and decodes its newest messages. */
      type: 'open'
      url: string
      apiUrl: string
      conversationId: string
      token: string
      newest: number
      timeoutMs: number
    }
  /** Scrolls the conversation of the last open back by up to `pages` older segments. */
  | { type: 'page-back'; pages: number; newest: number; timeoutMs: number }
  /** Counts the clients whose connection failed or closed unexpectedly. */
  | { type: 'status' }
  | { type: 'close' }

/** Figures of one command, by name; units are in the names (Ms, Us, Bytes, PerSecond). */
export type Figures = Record<string, number>

export type LoadReply = { type: 'done'; figures: Figures } | { type: 'failed'; message: string }
