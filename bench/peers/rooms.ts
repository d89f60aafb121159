import { GROUP_MAX_MEMBERS } from '../../shared/api.ts'
import type { ClientSpec } from '../load/protocol.ts'
import { type BenchUser, createGroup, createUsers } from './parley-accounts.ts'
import type { RunningPeer } from './start-peer.ts'

/** A document that a scenario's clients share, and the clients' specs. */
export interface Room {
  documentName: string
  /** Parley's conversation id; undefined for the other peers. */
  conversationId?: string
  /** Parley accounts that are members, in client order; empty for the other peers. */
  members: BenchUser[]
  clients: ClientSpec[]
}

/** Members of one Parley group: the admin and GROUP_MAX_MEMBERS others. */
const MAX_GROUP_SIZE = GROUP_MAX_MEMBERS + 1

/**
 * Prepares a fresh document for `clientCount` clients. On Parley it creates a group with
 * one account per client, up to maxAccounts and the group limit. Beyond that, accounts open
 * several connections, as a user with several devices does. Clients of a two-instance peer
 * alternate between the instances.
 */
export async function prepareRoom(
  peer: RunningPeer,
  label: string,
  clientCount: number,
  maxAccounts: number,
): Promise<Room> {
  const { definition } = peer.state
  const urlOf = (index: number) => {
    const instance = peer.instances[index % peer.instances.length]
    if (!instance) throw new Error(`${definition.id} has no server instance`)
    return instance.syncUrl
  }

  if (!definition.parley) {
    const clients = Array.from({ length: clientCount }, (_, index) => ({
      kind: definition.clientKind,
      url: urlOf(index),
      room: label,
      authorId: `author-${index}`,
    }))
    return { documentName: label, members: [], clients }
  }

  const members = await ensureUsers(peer, Math.min(clientCount, maxAccounts, MAX_GROUP_SIZE))
  const baseUrl = peer.instances[0]?.httpUrl ?? ''
  const conversation = await createGroup(baseUrl, members, label.slice(0, 100))
  const documentName = `conv:${conversation.id}`
  const clients: ClientSpec[] = Array.from({ length: clientCount }, (_, index) => {
    const user = members[index % members.length] as BenchUser
    return {
      kind: definition.clientKind,
      url: urlOf(index),
      room: documentName,
      token: user.token,
      authorId: user.id,
    }
  })
  return { documentName, conversationId: conversation.id, members, clients }
}

/** Returns the first `count` accounts of the peer, signing up the missing ones. */
export async function ensureUsers(peer: RunningPeer, count: number): Promise<BenchUser[]> {
  const { users } = peer.state
  if (users.length < count) {
    const baseUrl = peer.instances[0]?.httpUrl ?? ''
    users.push(...(await createUsers(baseUrl, users.length, count - users.length)))
  }
  return users.slice(0, count)
}
