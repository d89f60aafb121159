import net from 'node:net'

/** A loopback TCP proxy whose link to the target can be cut and restored. */
export interface TcpProxy {
  port: number
  /** Destroys every open connection and resets new ones until restore. */
  cut(): void
  restore(): void
  close(): Promise<void>
}

/**
 * Starts a proxy on 127.0.0.1 that forwards each connection to the target. While cut, it
 * keeps listening, so that clients get an immediate reset, not a refused or hanging connect.
 */
export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const open = new Set<net.Socket>()
  let isCut = false

  const server = net.createServer((client) => {
    if (isCut) {
      client.resetAndDestroy()
      return
    }
    const upstream = net.connect(targetPort, targetHost)
    for (const socket of [client, upstream]) {
      open.add(socket)
      socket.on('close', () => open.delete(socket))
      // A reset on one side ends both sides. The test provokes the error, so it is not reported.
      socket.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream)
    upstream.pipe(client)
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address() as net.AddressInfo

  return {
    port: address.port,
    cut: () => {
      isCut = true
      for (const socket of open) socket.resetAndDestroy()
      open.clear()
    },
    restore: () => {
      isCut = false
    },
    close: () => {
      for (const socket of open) socket.destroy()
      open.clear()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
