import type { ClientKind } from '../load/protocol.ts'

/** Identifier of a peer in the results. */
export type PeerId =
  | 'ws-floor'
  | 'ws-floor-batched'
  | 'y-websocket'
  | 'hocuspocus'
  | 'parley-pglite'
  | 'parley-postgres'
  | 'parley-redis'

/** Setup of Parley in a peer. */
export interface ParleySetup {
  database: 'pglite' | 'postgres'
  /** Server processes; with two, they share the database and relay through Redis. */
  instances: 1 | 2
}

/** A server under comparison, with the configuration recorded in every result file. */
export interface PeerDefinition {
  id: PeerId
  label: string
  clientKind: ClientKind
  /** Settings that decide the peer's behaviour, written into the results as they are. */
  configuration: Record<string, string | number | boolean>
  parley?: ParleySetup
}

/** Hocuspocus `flushDelay` of every Hocuspocus-based peer: Parley's, the library default. */
export const FLUSH_DELAY = 0

const hocuspocusClient = {
  client: '@hocuspocus/provider, one HocuspocusProviderWebsocket per client, awareness off',
  clientFlushDelay: 'false (provider default)',
}

/**
 * SEGMENT_MESSAGES of the Parley servers in the suite: larger than any room's messages, so
 * that no segment closes while clients write into the live document.
 */
export const BENCH_SEGMENT_MESSAGES = 1_000_000

const parleyServer = {
  ...hocuspocusClient,
  flushDelay: FLUSH_DELAY,
  command: 'node --import tsx sync-server/main.ts',
  validation: 'every update (authorship), before it is applied',
  durability: 'each update committed to the database before the acknowledgement',
  logLevel: 'warn',
  segmentMessages: `${BENCH_SEGMENT_MESSAGES} (SEGMENT_MESSAGES), because the load generator's clients write into the live document and do not follow a new segment; the stored conversations are split at the default`,
}

/** Every peer, in the order the suite runs them within one repetition. */
export const PEERS: PeerDefinition[] = [
  {
    id: 'ws-floor',
    label: 'ws floor',
    clientKind: 'raw',
    configuration: {
      server: 'bench/servers/raw-ws-server.ts (ws, relays bytes, no Yjs)',
      batching: 'none: each message sent on arrival',
      client: 'ws, length-framed Yjs updates',
    },
  },
  {
    id: 'ws-floor-batched',
    label: 'ws floor, batched',
    clientKind: 'raw',
    configuration: {
      server: 'bench/servers/raw-ws-server.ts (ws, relays bytes, no Yjs)',
      batching: 'one frame per room per event-loop turn (setImmediate), like flushDelay 0',
      client: 'ws, length-framed Yjs updates',
    },
  },
  {
    id: 'y-websocket',
    label: 'y-websocket',
    clientKind: 'y-websocket',
    configuration: {
      server: '@y/websocket-server bin (src/server.js), in memory, gc on',
      batching: 'none: each update broadcast on arrival',
      client: 'y-websocket WebsocketProvider, awareness state null, BroadcastChannel off',
    },
  },
  {
    id: 'hocuspocus',
    label: 'Hocuspocus',
    clientKind: 'hocuspocus',
    configuration: {
      ...hocuspocusClient,
      server: 'bench/servers/hocuspocus-server.ts: Hocuspocus, no extensions, ws transport',
      flushDelay: FLUSH_DELAY,
      storage: 'none',
    },
  },
  {
    id: 'parley-pglite',
    label: 'Parley, PGlite',
    clientKind: 'hocuspocus',
    configuration: { ...parleyServer, database: 'PGlite (embedded, in the server process)' },
    parley: { database: 'pglite', instances: 1 },
  },
  {
    id: 'parley-postgres',
    label: 'Parley, Postgres',
    clientKind: 'hocuspocus',
    configuration: { ...parleyServer, database: 'Postgres 127.0.0.1:5432, pool of 10' },
    parley: { database: 'postgres', instances: 1 },
  },
  {
    id: 'parley-redis',
    label: 'Parley, 2 instances + Redis',
    clientKind: 'hocuspocus',
    configuration: {
      ...parleyServer,
      database: 'Postgres 127.0.0.1:5432, shared by both instances',
      redis: 'redis://127.0.0.1:6379 (@hocuspocus/extension-redis)',
      clientPlacement: 'client i on instance i mod 2',
    },
    parley: { database: 'postgres', instances: 2 },
  },
]
